package io.shardgate.proxy.exec;

import java.util.ArrayList;
import java.util.List;

/**
 * The session-scope settings a client made ({@code SET sql_mode = …}, {@code SET SESSION TRANSACTION …}),
 * as the SQL statements that reproduce them on a backend connection, in the order they were made.
 * Immutable; {@link #fingerprint()} identifies the state a connection carries after running them.
 */
public record SessionSettings(List<String> statements) {
    public static final SessionSettings NONE = new SessionSettings(List.of());

    public SessionSettings {
        statements = List.copyOf(statements);
    }

    public boolean isEmpty() {
        return statements.isEmpty();
    }

    /** These settings plus one more statement ({@code key} names what it sets, so a later SET of the same replaces it). */
    public SessionSettings with(String statement, String key) {
        List<String> next = new ArrayList<>();
        String marker = keyComment(key);
        for (String s : statements) {
            // an older SET of the same variable is dropped unless the new value reads the old one (@@x)
            if (!(key != null && s.endsWith(marker) && !statement.contains("@@"))) {
                next.add(s);
            }
        }
        next.add(key == null ? statement : statement + marker);
        return new SessionSettings(next);
    }

    /** These settings without the statements of {@code key} (see {@link #with}): what a RESET of it leaves. */
    public SessionSettings without(String key) {
        String marker = keyComment(key);
        return new SessionSettings(statements.stream().filter(s -> !s.endsWith(marker)).toList());
    }

    /** The keys (see {@link #with}) of these settings, in order, each once; statements added without a key are left out. */
    public List<String> keys() {
        java.util.LinkedHashSet<String> keys = new java.util.LinkedHashSet<>();
        for (String s : statements) {
            if (s.endsWith(" */")) {
                int open = s.lastIndexOf(" /* ");
                if (open >= 0) {
                    keys.add(s.substring(open + 4, s.length() - 3));
                }
            }
        }
        return List.copyOf(keys);
    }

    /** Whether a statement of {@code key} (see {@link #with}) is among these settings. */
    public boolean has(String key) {
        String marker = keyComment(key);
        for (String s : statements) {
            if (s.endsWith(marker)) {
                return true;
            }
        }
        return false;
    }

    /** Whether any of these settings is about character sets (SET NAMES, character_set_*, collation_*). */
    public boolean touchesCharset() {
        for (String s : statements) {
            String lower = s.toLowerCase(java.util.Locale.ROOT);
            if (lower.endsWith("/* names */") || lower.contains("character_set_") || lower.contains("collation_")) {
                return true;
            }
        }
        return false;
    }

    /** Identifies the settings; equal fingerprints mean equal backend session state. */
    public String fingerprint() {
        return String.join(";\n", statements);
    }

    /** Whether a connection carrying {@code other} reaches these settings by running only the statements after them. */
    boolean extendsSettings(SessionSettings other) {
        return statements.size() >= other.statements.size() && statements.subList(0, other.statements.size()).equals(other.statements);
    }

    private static String keyComment(String key) {
        return " /* " + key + " */";
    }
}
