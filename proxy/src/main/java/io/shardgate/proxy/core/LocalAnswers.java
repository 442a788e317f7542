package io.shardgate.proxy.core;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.LocalColumn;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Answers table-less SELECTs without a backend when every column is something the proxy knows:
 * {@code @@version_comment}, {@code @@version}, {@code VERSION()}, {@code DATABASE()}/{@code SCHEMA()},
 * {@code CONNECTION_ID()}, {@code LAST_INSERT_ID()}, {@code FOUND_ROWS()} and {@code ROW_COUNT()} (which must come
 * from the session: its statements ran on pooled connections, and on several shards), {@code USER()} and plain literals. Anything else, or a statement with WHERE,
 * {@code LIMIT 0}, INTO …, goes to a backend. Each column is described (type, flags, length, decimals, character set)
 * as a MariaDB server describes the same expression (ProxyCoreTest compares them).
 */
final class LocalAnswers {
    private static final Pattern NOT_LOCAL = Pattern.compile("(?is).*\\b(WHERE|HAVING|INTO|FOR|LIMIT\\s+0\\b|OFFSET|UNION).*");
    private static final Pattern INTEGER = Pattern.compile("-?\\d{1,18}");
    private static final Pattern DECIMAL = Pattern.compile("-?\\d{1,30}\\.(\\d{1,30})");
    private static final Pattern SIMPLE_STRING = Pattern.compile("'([^'\\\\]*)'");

    /** What the session knows about itself. */
    interface SessionFacts {
        String schema();

        long connectionId();

        long lastInsertId();

        /** What {@code FOUND_ROWS()} answers: the rows of the last SELECT, or what its SQL_CALC_FOUND_ROWS counted. */
        long foundRows();

        /** What {@code ROW_COUNT()} answers: the affected rows of the last statement, -1 after a result set. */
        long rowCount();

        /**
         * What {@code @@warning_count} answers: the previous statement's warnings, summed over the shards it ran on (a
         * shard's own connection would count its last statement, which was another session's or none). Asking keeps
         * the previous statement's list for a SHOW WARNINGS after it, as on a server.
         */
        long warningCount();

        String user();

        /**
         * Whether the client gets results in utf8mb4 (character_set_results): the proxy's answers are written so; in
         * any other set the server's column collation and bytes would differ, so only numbers with ASCII labels are
         * answered here and the rest goes to a shard.
         */
        boolean utf8mb4Results();
    }

    private final String version;
    private final String versionComment;

    LocalAnswers(String version, String versionComment) {
        this.version = version;
        this.versionComment = versionComment;
    }

    Optional<StatementResult.Rows> answer(String sql, List<LocalColumn> columns, SessionFacts facts) {
        if (columns.isEmpty() || NOT_LOCAL.matcher(sql).matches()) {
            return Optional.empty();
        }
        List<ColumnInfo> infos = new ArrayList<>(columns.size());
        byte[][] row = new byte[columns.size()][];
        for (int i = 0; i < columns.size(); i++) {
            Optional<Value> v = value(columns.get(i), facts);
            if (v.isEmpty()) {
                return Optional.empty();
            }
            if (!facts.utf8mb4Results() && (v.get().column().collationId() != BINARY || !ascii(v.get().column().name()))) {
                return Optional.empty();
            }
            infos.add(v.get().column());
            row[i] = v.get().text() == null ? null : v.get().text().getBytes(StandardCharsets.UTF_8);
        }
        return Optional.of(new StatementResult.Rows(infos, List.<byte[][]>of(row), 0));
    }

    private record Value(ColumnInfo column, String text) {}

    private static final int BINARY = 63;

    private static boolean ascii(String s) {
        return s.chars().allMatch(ch -> ch < 0x80);
    }

    private Optional<Value> value(LocalColumn c, SessionFacts facts) {
        String label = c.label();
        return switch (c.kind()) {
            case SYSTEM_VARIABLE -> switch (c.name()) {
                case "version_comment" -> Optional.of(text(label, versionComment, false));
                case "version" -> Optional.of(text(label, version, false));
                case "warning_count" -> Optional.of(new Value(ColumnInfo.computedCounter(label), Long.toString(facts.warningCount())));
                default -> Optional.empty();
            };
            case SESSION_FUNCTION -> switch (c.name()) {
                // as MariaDB types them: DATABASE() a VARCHAR(64), USER() a VARCHAR(384), both nullable, in utf8mb4 bytes
                case "DATABASE", "SCHEMA" -> Optional.of(new Value(ColumnInfo.computedString(label, 64 * 4, false), facts.schema()));
                case "VERSION" -> Optional.of(text(label, version, true));
                // an INT UNSIGNED, as MariaDB types CONNECTION_ID()
                case "CONNECTION_ID" -> Optional.of(new Value(new ColumnInfo("", "", "", label, "", ColumnType.INT, 10, 0, true, true,
                        true, 63), Long.toString(facts.connectionId())));
                case "LAST_INSERT_ID" -> label.replace(" ", "").toUpperCase(Locale.ROOT).endsWith("()") || !label.contains("(")
                        ? Optional.of(unsigned(label, Long.toUnsignedString(facts.lastInsertId()))) : Optional.empty();
                case "USER", "SESSION_USER", "SYSTEM_USER" -> Optional.of(new Value(ColumnInfo.computedString(label, 384 * 4, false),
                        facts.user()));
                // over several shards only the proxy knows these; never a shard's value for its own connection
                case "FOUND_ROWS" -> noArguments(label) ? Optional.of(number(label, Long.toString(facts.foundRows()))) : Optional.empty();
                case "ROW_COUNT" -> noArguments(label) ? Optional.of(number(label, Long.toString(facts.rowCount()))) : Optional.empty();
                default -> Optional.empty();
            };
            case CONSTANT -> constant(label, c.name());
            case EXPRESSION -> Optional.empty();
        };
    }

    private static boolean noArguments(String label) {
        return label.replace(" ", "").endsWith("()") || !label.contains("(");
    }

    private static Optional<Value> constant(String label, String literal) {
        String l = literal.strip();
        if (l.equalsIgnoreCase("NULL")) {
            return Optional.of(new Value(new ColumnInfo("", "", "", label, "", ColumnType.NULL, 0, 0, false, false, true, 63), null));
        }
        if (INTEGER.matcher(l).matches()) {
            // as MariaDB types an integer literal: INT up to 9 characters, BIGINT beyond (Connector/J maps them to
            // Integer and Long, so a wrong type is a different Java value for the application)
            ColumnType type = l.length() <= 9 ? ColumnType.INT : ColumnType.BIGINT;
            return Optional.of(new Value(numeric(label.equals(literal) ? l : label, type, l.length(), 0), l));
        }
        var d = DECIMAL.matcher(l);
        if (d.matches()) {
            // MariaDB's length of a DECIMAL literal: its digits as written, the point, and a place for the sign
            long length = l.replace("-", "").length() + 1;
            return Optional.of(new Value(numeric(label, ColumnType.DECIMAL, length, d.group(1).length()), l));
        }
        var s = SIMPLE_STRING.matcher(l);
        if (s.matches()) {
            String value = s.group(1);
            return Optional.of(text(label.equals(literal) ? value : label, value, true));
        }
        return Optional.empty();
    }

    /** A string as a server computes it: its characters' utf8mb4 length, NOT NULL where the server's cannot be NULL. */
    private static Value text(String label, String value, boolean notNull) {
        long length = value == null ? 0 : (long) value.codePointCount(0, value.length()) * 4;
        return new Value(ColumnInfo.computedString(label, length, notNull), value);
    }

    /** A BIGINT UNSIGNED, as the server types LAST_INSERT_ID(). */
    private static Value unsigned(String label, String value) {
        return new Value(new ColumnInfo("", "", "", label, "", ColumnType.BIGINT, 21, 0, true, true, true, 63), value);
    }

    private static Value number(String label, String value) {
        return new Value(numeric(label, ColumnType.BIGINT, 21, 0), value);
    }

    private static ColumnInfo numeric(String label, ColumnType type, long length, int decimals) {
        return new ColumnInfo("", "", "", label, "", type, length, decimals, false, true, true, 63);
    }
}
