package io.shardgate.it.corpus;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Printing helpers shared by the Java drivers, the id renaming of {@code ids: renumber}, and the unified diff. */
public final class Transcripts {
    /** Column labels that hold generated ids (and the lines that report them) under {@code ids: renumber}. */
    private static final Pattern ID_LABEL = Pattern.compile("(?i)(^|_)id$|last_insert_id|insert_?id|generated_key|lastval|currval|nextval");
    private static final Pattern ID_FIELD =
            Pattern.compile("(?i)((?:insert_?id|lastrowid|generated key|\\bid)[=:] ?[A-Za-z]*:?'?)(\\d+)");
    private static final Pattern NUMBER = Pattern.compile("\\d+");

    private Transcripts() {}

    /** A string value in single quotes, with quotes, backslashes and control characters escaped. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\'' -> b.append("\\'");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (ch < 0x20 || ch == 0x7f || ch == 0xfffd) {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('\'').toString();
    }

    /** A message on one line (a multi-line error would break the transcript's line structure). */
    public static String oneLine(String s) {
        return s == null ? "null" : s.replace("\r", "\\r").replace("\n", "\\n");
    }

    /**
     * Renames generated ids: in every {@code row:} line, the values of columns whose label names an id, and in every
     * insert-id / generated-key field, the n-th distinct number seen becomes {@code #n}. Two transcripts are then equal
     * when their ids repeat and differ in the same pattern (unique ids, LAST_INSERT_ID equal to the inserted row's),
     * whatever the numbers.
     */
    public static String renumberIds(String transcript) {
        Map<String, String> names = new HashMap<>();
        List<Boolean> idColumns = new ArrayList<>();
        boolean inColumns = false;
        StringBuilder out = new StringBuilder();
        for (String line : transcript.split("\n", -1)) {
            if (line.startsWith("column: ")) {
                if (!inColumns) {
                    idColumns.clear();
                    inColumns = true;
                }
                String label = line.substring("column: ".length()).split(" ", 2)[0];
                idColumns.add(ID_LABEL.matcher(label).find());
                out.append(line).append('\n');
                continue;
            }
            if (line.startsWith("column-detail: ") && inColumns) {
                // a column's details (compared under -Dcorpus.metadata=full) belong to its column block
                out.append(line).append('\n');
                continue;
            }
            inColumns = false;
            if (line.startsWith("row: ")) {
                String[] values = line.substring("row: ".length()).split(" \\| ", -1);
                for (int i = 0; i < values.length && i < idColumns.size(); i++) {
                    if (idColumns.get(i)) {
                        values[i] = rename(values[i], names);
                    }
                }
                out.append("row: ").append(String.join(" | ", values)).append('\n');
                continue;
            }
            Matcher m = ID_FIELD.matcher(line);
            StringBuilder b = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(b, Matcher.quoteReplacement(m.group(1) + (m.group(2).equals("0") ? "0" : name(m.group(2), names))));
            }
            m.appendTail(b);
            out.append(b).append('\n');
        }
        out.setLength(Math.max(0, out.length() - 1));
        return out.toString();
    }

    private static String rename(String value, Map<String, String> names) {
        Matcher m = NUMBER.matcher(value);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(b, Matcher.quoteReplacement(name(m.group(), names)));
        }
        m.appendTail(b);
        return b.toString();
    }

    private static String name(String number, Map<String, String> names) {
        return names.computeIfAbsent(number.replaceFirst("^0+(?=\\d)", ""), k -> "#" + (names.size() + 1));
    }

    /** A unified diff (3 lines of context) of two transcripts, or "" when they are equal. */
    public static String unifiedDiff(String expectedName, String expected, String actualName, String actual) {
        List<String> a = List.of(expected.split("\n", -1));
        List<String> b = List.of(actual.split("\n", -1));
        int n = a.size();
        int m = b.size();
        int[][] lcs = new int[n + 1][m + 1];
        for (int i = n - 1; i >= 0; i--) {
            for (int j = m - 1; j >= 0; j--) {
                lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        List<String> ops = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a.get(i).equals(b.get(j))) {
                ops.add(" " + a.get(i++));
                j++;
            } else if (j < m && (i == n || lcs[i][j + 1] > lcs[i + 1][j])) {
                ops.add("+" + b.get(j++));
            } else {
                ops.add("-" + a.get(i++));
            }
        }
        if (ops.stream().allMatch(o -> o.startsWith(" "))) {
            return "";
        }
        StringBuilder out = new StringBuilder("--- " + expectedName + "\n+++ " + actualName + "\n");
        int k = 0;
        while (k < ops.size()) {
            if (ops.get(k).startsWith(" ")) {
                k++;
                continue;
            }
            int start = Math.max(0, k - 3);
            int end = k;
            while (end < ops.size()) {
                if (!ops.get(end).startsWith(" ")) {
                    end++;
                    continue;
                }
                int run = end;
                while (run < ops.size() && ops.get(run).startsWith(" ")) {
                    run++;
                }
                if (run - end > 6 || run == ops.size()) {
                    end = Math.min(ops.size(), end + 3);
                    break;
                }
                end = run;
            }
            out.append("@@\n");
            for (int x = start; x < end; x++) {
                out.append(ops.get(x)).append('\n');
            }
            k = end;
        }
        return out.toString();
    }
}
