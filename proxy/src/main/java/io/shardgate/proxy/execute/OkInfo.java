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
