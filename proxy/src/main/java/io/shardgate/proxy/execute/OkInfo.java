package io.shardgate.proxy.execute;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The info text of a MySQL OK packet for a statement run on several shards: the server's texts
 * ({@code Rows matched: 2  Changed: 1  Warnings: 0}, {@code Records: 3  Duplicates: 1  Warnings: 0}, …) count rows, so
 * one server would have written the same text with each number summed over the shards. Only texts of one shape (the
 * same words, numbers aside) are summed; when a shard wrote none (a single-row INSERT writes none, a DELETE never) or
 * another shape, the sum is unknown and the text is empty.
 */
final class OkInfo {
    private static final Pattern NUMBER = Pattern.compile("\\d+");

    private OkInfo() {}

    private static final Pattern INSERT_INFO = Pattern.compile("Records: (\\d+)  Duplicates: (\\d+)  Warnings: (\\d+)");
    private static final Pattern IGNORE = Pattern.compile("(?is)\\s*INSERT\\s+(LOW_PRIORITY\\s+|DELAYED\\s+|HIGH_PRIORITY\\s+)?IGNORE\\b.*");
    private static final Pattern REPLACE = Pattern.compile("(?is)\\s*REPLACE\\b.*");
    private static final Pattern UPSERT = Pattern.compile("(?is).*\\bON\\s+DUPLICATE\\s+KEY\\s+UPDATE\\b.*");

    /**
     * The info text of a multi-row INSERT or REPLACE split per shard ({@code sql} is one shard's part; they differ only
     * in their rows), as one server writes it for all the rows: {@code Records: R  Duplicates: D  Warnings: W}. A shard
     * given several rows wrote that text for its own; a shard given one row wrote none (a server writes it only for
     * several), so its part is one record, its warnings, and the duplicates its affected rows tell: a REPLACE that
     * deleted a row or an upsert that updated one affects 2, an INSERT IGNORE that skipped its row 0. Where they cannot
     * tell (INSERT IGNORE … ON DUPLICATE KEY UPDATE), the shards' texts are summed as for other writes.
     */
    static String insertSum(List<io.shardgate.proxy.session.StatementResult.Update> parts, String sql) {
        boolean ignore = IGNORE.matcher(sql).matches();
        boolean replace = REPLACE.matcher(sql).matches();
        boolean upsert = UPSERT.matcher(sql).matches();
        long records = 0;
        long duplicates = 0;
        long warnings = 0;
        for (var u : parts) {
            if (u.info().isEmpty()) {
                if (ignore && upsert) {
                    return sum(parts.stream().map(io.shardgate.proxy.session.StatementResult.Update::info).toList());
                }
                records++;
                duplicates += ignore ? (u.affectedRows() == 0 ? 1 : 0) : (replace || upsert) && u.affectedRows() == 2 ? 1 : 0;
                warnings += u.warnings();
                continue;
            }
            Matcher m = INSERT_INFO.matcher(u.info());
            if (!m.matches()) {
                return sum(parts.stream().map(io.shardgate.proxy.session.StatementResult.Update::info).toList());
            }
            records += Long.parseLong(m.group(1));
            duplicates += Long.parseLong(m.group(2));
            warnings += Long.parseLong(m.group(3));
        }
        return "Records: " + records + "  Duplicates: " + duplicates + "  Warnings: " + warnings;
    }

    static String sum(List<String> infos) {
        if (infos.isEmpty() || infos.getFirst().isEmpty()) {
            return "";
        }
        String shape = NUMBER.matcher(infos.getFirst()).replaceAll("#");
        long[] totals = new long[(int) shape.chars().filter(c -> c == '#').count()];
        for (String info : infos) {
            if (!NUMBER.matcher(info).replaceAll("#").equals(shape)) {
                return "";
            }
            Matcher m = NUMBER.matcher(info);
            for (int i = 0; m.find(); i++) {
                totals[i] += Long.parseLong(m.group());
            }
        }
        StringBuilder out = new StringBuilder();
        int n = 0;
        for (char c : shape.toCharArray()) {
            if (c == '#') {
                out.append(totals[n++]);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
