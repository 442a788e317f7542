package io.shardgate.router.golden;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A golden case file. Format:
 *
 * <pre>
 * # comments
 * &#64;cluster mysql4                 default cluster fixture of the file
 *
 * ### case name
 * -- cluster: moving                optional, overrides the default
 * -- params: 42, 'abc', null, 4.5   optional bound parameters (Long, String, null, BigDecimal, true/false)
 * -- spread: 1                      optional spreading hint for counter increments (default 0)
 * SELECT ...                        the statement, one or more lines
 * =&gt; printed plan, first line
 *    continuation lines of the plan, indented three spaces
 * </pre>
 */
final class GoldenFile {
    static final String CONTINUATION = "   ";

    record Case(String name, String cluster, List<Object> params, int spread, String sql, String expected, int expectedLine) {
        Case {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(cluster, "cluster");
            params = java.util.Collections.unmodifiableList(new ArrayList<>(params));
            Objects.requireNonNull(sql, "sql");
            Objects.requireNonNull(expected, "expected");
        }
    }

    final Path path;
    final List<String> lines;
    final List<Case> cases;

    private GoldenFile(Path path, List<String> lines, List<Case> cases) {
        this.path = path;
        this.lines = List.copyOf(lines);
        this.cases = List.copyOf(cases);
    }

    static GoldenFile read(Path path) {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String defaultCluster = null;
        List<Case> cases = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i);
            if (line.startsWith("@cluster ")) {
                defaultCluster = line.substring("@cluster ".length()).strip();
                i++;
            } else if (line.startsWith("### ")) {
                i = readCase(path, lines, i, defaultCluster, cases);
            } else {
                i++;
            }
        }
        return new GoldenFile(path, lines, cases);
    }

    private static int readCase(Path path, List<String> lines, int start, String defaultCluster, List<Case> out) {
        String name = lines.get(start).substring(4).strip();
        String cluster = defaultCluster;
        List<Object> params = List.of();
        int spread = 0;
        List<String> sql = new ArrayList<>();
        int i = start + 1;
        for (; i < lines.size() && !lines.get(i).startsWith("=>"); i++) {
            String line = lines.get(i);
            if (line.startsWith("-- cluster:")) {
                cluster = line.substring("-- cluster:".length()).strip();
            } else if (line.startsWith("-- params:")) {
                params = parseParams(line.substring("-- params:".length()));
            } else if (line.startsWith("-- spread:")) {
                spread = Integer.parseInt(line.substring("-- spread:".length()).strip());
            } else if (line.startsWith("### ")) {
                throw new IllegalArgumentException(path + ":" + (i + 1) + ": case '" + name + "' has no '=>' line");
            } else {
                sql.add(line);
            }
        }
        if (i == lines.size() || cluster == null) {
            throw new IllegalArgumentException(path + ": case '" + name + "' needs a cluster and a '=>' line");
        }
        int expectedLine = i;
        StringBuilder expected = new StringBuilder(lines.get(i).substring(2).strip());
        for (i++; i < lines.size() && lines.get(i).startsWith(CONTINUATION); i++) {
            expected.append('\n').append(lines.get(i).substring(CONTINUATION.length()));
        }
        out.add(new Case(name, cluster, params, spread, String.join("\n", sql).strip(), expected.toString(), expectedLine));
        return i;
    }

    /** This file with the expected plans replaced by {@code actual} (by case name). */
    String rewritten(Map<String, String> actual) {
        StringBuilder out = new StringBuilder();
        int caseIndex = 0;
        for (int i = 0; i < lines.size(); i++) {
            Case c = caseIndex < cases.size() ? cases.get(caseIndex) : null;
            if (c != null && i == c.expectedLine()) {
                String[] plan = actual.getOrDefault(c.name(), c.expected()).split("\n", -1);
                out.append("=> ").append(plan[0]).append('\n');
                for (int p = 1; p < plan.length; p++) {
                    out.append(CONTINUATION).append(plan[p]).append('\n');
                }
                while (i + 1 < lines.size() && lines.get(i + 1).startsWith(CONTINUATION)) {
                    i++;
                }
                caseIndex++;
            } else {
                out.append(lines.get(i)).append('\n');
            }
        }
        return out.toString();
    }

    static List<Object> parseParams(String text) {
        List<Object> out = new ArrayList<>();
        StringBuilder token = new StringBuilder();
        boolean quoted = false;
        for (char c : text.toCharArray()) {
            if (c == '\'') {
                quoted = !quoted;
                token.append(c);
            } else if (c == ',' && !quoted) {
                out.add(value(token.toString().strip()));
                token.setLength(0);
            } else {
                token.append(c);
            }
        }
        if (!token.toString().isBlank()) {
            out.add(value(token.toString().strip()));
        }
        return out;
    }

    private static Object value(String t) {
        if (t.equalsIgnoreCase("null")) {
            return null;
        }
        if (t.startsWith("'") && t.endsWith("'") && t.length() >= 2) {
            return t.substring(1, t.length() - 1);
        }
        if (t.equals("true") || t.equals("false")) {
            return Boolean.valueOf(t);
        }
        if (t.matches("-?\\d+")) {
            return Long.valueOf(t);
        }
        return new BigDecimal(t);
    }
}
