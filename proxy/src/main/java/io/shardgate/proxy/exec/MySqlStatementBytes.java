package io.shardgate.proxy.exec;

import io.shardgate.proxy.session.ClientCharset;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;

/**
 * The COM_QUERY bytes of SQL with {@code ?} placeholders and values, in the session's client character set (which is
 * the backend connection's: the session's SET NAMES is replayed on it). Values are written as Connector/J's
 * client-side prepared statements write them, except that a string is the client's own bytes (a String here comes from
 * {@link ClientCharset#decode}, so {@link ClientCharset#encode} gives them back exactly) instead of Connector/J's UTF-8.
 * Placeholders are found outside quotes and comments.
 */
final class MySqlStatementBytes {
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private MySqlStatementBytes() {}

    static byte[] render(String sql, List<Object> values, ClientCharset charset, boolean noBackslashEscapes) {
        if (values.isEmpty()) {
            return charset.encode(sql);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(sql.length() + 32 * values.size());
        int next = 0;
        int copied = 0;
        int i = 0;
        while (i < sql.length()) {
            char c = sql.charAt(i);
            int skip = skip(sql, i);
            if (skip > i) {
                i = skip;
            } else if (c == '?') {
                if (next >= values.size()) {
                    throw new IllegalArgumentException("more placeholders than values in: " + sql);
                }
                out.writeBytes(charset.encode(sql.substring(copied, i)));
                value(out, values.get(next++), charset, noBackslashEscapes);
                copied = ++i;
            } else {
                i++;
            }
        }
        if (next != values.size()) {
            throw new IllegalArgumentException(values.size() + " values for " + next + " placeholders in: " + sql);
        }
        out.writeBytes(charset.encode(sql.substring(copied)));
        return out.toByteArray();
    }

    private static void value(ByteArrayOutputStream out, Object value, ClientCharset charset, boolean noBackslashEscapes) {
        switch (value) {
            case null -> ascii(out, "NULL");
            case String s -> quoted(out, charset.encode(s), noBackslashEscapes);
            case byte[] b -> binary(out, b, noBackslashEscapes);
            case Long l -> ascii(out, l.toString());
            case Integer n -> ascii(out, n.toString());
            case BigInteger b -> ascii(out, b.toString());
            case BigDecimal d -> ascii(out, d.toPlainString());
            case Float f -> ascii(out, finite(f.doubleValue(), Float.toString(f)));
            case Double d -> ascii(out, finite(d, Double.toString(d)));
            case Boolean b -> ascii(out, b ? "1" : "0");
            case LocalDateTime t -> quoted(out, ascii(ShardExecutor.dateTime(t)), noBackslashEscapes);
            case LocalDate d -> quoted(out, ascii(d.toString()), noBackslashEscapes);
            case Duration d -> quoted(out, ascii(ShardExecutor.time(d)), noBackslashEscapes);
            default -> quoted(out, charset.encode(value.toString()), noBackslashEscapes);
        }
    }

    private static String finite(double d, String text) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            throw new IllegalArgumentException("'" + text + "' is not a valid numeric or approximate numeric value");
        }
        return text;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static void ascii(ByteArrayOutputStream out, String s) {
        out.writeBytes(ascii(s));
    }

    /** A quoted string of the given bytes, escaped as Connector/J escapes (the supported sets have no multi-byte quote). */
    private static void quoted(ByteArrayOutputStream out, byte[] b, boolean noBackslashEscapes) {
        out.write('\'');
        for (byte x : b) {
            if (noBackslashEscapes) {
                if (x == '\'') {
                    out.write('\'');
                }
                out.write(x);
                continue;
            }
            switch (x) {
                case 0 -> { out.write('\\'); out.write('0'); }
                case '\n' -> { out.write('\\'); out.write('n'); }
                case '\r' -> { out.write('\\'); out.write('r'); }
                case 0x1A -> { out.write('\\'); out.write('Z'); }
                case '\\', '\'', '"' -> { out.write('\\'); out.write(x); }
                default -> out.write(x);
            }
        }
        out.write('\'');
    }

    private static void binary(ByteArrayOutputStream out, byte[] b, boolean noBackslashEscapes) {
        if (noBackslashEscapes) {
            out.write('X');
            out.write('\'');
            for (byte x : b) {
                out.write(HEX[(x >> 4) & 0xF]);
                out.write(HEX[x & 0xF]);
            }
            out.write('\'');
            return;
        }
        ascii(out, "_binary");
        quoted(out, b, false);
    }

    /** Past a quoted string, quoted identifier or comment at {@code i}; {@code i} if none starts there. */
    private static int skip(String sql, int i) {
        char c = sql.charAt(i);
        if (c == '\'' || c == '"' || c == '`') {
            int j = i + 1;
            while (j < sql.length()) {
                char d = sql.charAt(j);
                if (d == '\\' && c != '`') {
                    j += 2;
                } else if (d == c) {
                    if (j + 1 < sql.length() && sql.charAt(j + 1) == c) {
                        j += 2;
                    } else {
                        return j + 1;
                    }
                } else {
                    j++;
                }
            }
            return sql.length();
        }
        if (sql.startsWith("--", i) || c == '#') {
            int nl = sql.indexOf('\n', i);
            return nl < 0 ? sql.length() : nl + 1;
        }
        if (sql.startsWith("/*", i)) {
            int close = sql.indexOf("*/", i + 2);
            return close < 0 ? sql.length() : close + 2;
        }
        return i;
    }
}
