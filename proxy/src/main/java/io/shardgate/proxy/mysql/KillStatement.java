package io.shardgate.proxy.mysql;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MySQL's {@code KILL [HARD | SOFT] [CONNECTION | QUERY] <id>}, which the MySQL front end answers itself: the id is one
 * the proxy handed out (in the handshake, and as {@code CONNECTION_ID()}), which on a shard would name another
 * connection, so KILL is never forwarded. Other forms ({@code KILL QUERY ID}, {@code KILL USER}) are refused.
 */
record KillStatement(boolean queryOnly, long connectionId) {
    private static final Pattern KILL = Pattern.compile("(?is)^\\s*KILL\\b.*");
    private static final Pattern FORM = Pattern.compile(
            "(?is)^\\s*KILL\\s+(?:(?:HARD|SOFT)\\s+)?(?:(CONNECTION|QUERY)\\s+)?(\\d{1,19})\\s*;?\\s*$");

    /** Not a KILL statement: empty. A KILL of a form the proxy does not serve: {@link Unsupported}. */
    static Optional<KillStatement> parse(CharSequence sql) {
        if (!startsWithKill(sql)) {
            return Optional.empty();
        }
        Matcher m = FORM.matcher(sql);
        if (!m.matches()) {
            throw new Unsupported();
        }
        long id;
        try {
            id = Long.parseLong(m.group(2));
        } catch (NumberFormatException e) {
            id = Long.MAX_VALUE; // no connection has it: the server's "Unknown thread id"
        }
        return Optional.of(new KillStatement("QUERY".equalsIgnoreCase(m.group(1)), id));
    }

    /** Cheap test first: most statements do not start with a K. */
    static boolean startsWithKill(CharSequence sql) {
        int i = 0;
        while (i < sql.length() && Character.isWhitespace(sql.charAt(i))) {
            i++;
        }
        return i < sql.length() && (sql.charAt(i) == 'K' || sql.charAt(i) == 'k') && KILL.matcher(sql).matches();
    }

    /** A KILL of a form Shardgate does not serve. */
    static final class Unsupported extends RuntimeException {
        Unsupported() {
            super("this form of KILL is not supported by Shardgate: write KILL [CONNECTION | QUERY] <id>, the id as"
                    + " CONNECTION_ID() gives it (KILL QUERY ID and KILL USER are not served)", null, false, false);
        }
    }
}
