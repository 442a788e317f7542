package io.shardgate.proxy.exec.merge;

import io.shardgate.proxy.session.ColumnInfo;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;

/**
 * How the values of one column compare, from their backend text (never null here; callers order NULLs).
 *
 * <ul>
 *   <li>integers: numerically (long, BigInteger past 18 digits); DECIMAL as BigDecimal; FLOAT/DOUBLE as double;</li>
 *   <li>DATE, DATETIME, TIMESTAMP by their text (ISO-like text orders as the values do); TIME by its signed
 *       duration ({@code -01:00:00 < 99:00:00 < 100:00:00});</li>
 *   <li>strings with a binary collation (63) or the BINARY flag, BLOBs, BIT: unsigned byte order;</li>
 *   <li>other strings approximate MySQL's {@code *_general_ci}: trailing spaces ignored, accents stripped
 *       (NFD without combining marks), then compared upper-cased. Language-specific collations
 *       ({@code _german2_ci}, {@code _unicode_520_ci}, …) and ENUM's order by index are not reproduced.</li>
 * </ul>
 */
public enum ValueOrder implements Comparator<byte[]> {
    INTEGER {
        @Override
        public int compare(byte[] a, byte[] b) {
            if (a.length < 19 && b.length < 19) {
                return Long.compare(parseLong(a), parseLong(b));
            }
            return new BigInteger(text(a)).compareTo(new BigInteger(text(b)));
        }
    },
    DECIMAL {
        @Override
        public int compare(byte[] a, byte[] b) {
            return new BigDecimal(text(a)).compareTo(new BigDecimal(text(b)));
        }
    },
    FLOATING {
        @Override
        public int compare(byte[] a, byte[] b) {
            return Double.compare(Double.parseDouble(text(a)), Double.parseDouble(text(b)));
        }
    },
    TIME {
        @Override
        public int compare(byte[] a, byte[] b) {
            return Long.compare(timeMicros(text(a)), timeMicros(text(b)));
        }
    },
    BYTES {
        @Override
        public int compare(byte[] a, byte[] b) {
            return Arrays.compareUnsigned(a, b);
        }
    },
    CASE_INSENSITIVE {
        @Override
        public int compare(byte[] a, byte[] b) {
            return foldCase(a).compareTo(foldCase(b));
        }

        @Override
        public Object groupKey(byte[] value) {
            return foldCase(value);
        }
    },
    /**
     * CASE_INSENSITIVE for values in latin1 (a latin1 session's results, which the shards convert to latin1, or a latin1
     * column read in binary): decoded as MySQL's latin1, not as UTF-8.
     */
    CASE_INSENSITIVE_LATIN1 {
        @Override
        public int compare(byte[] a, byte[] b) {
            return foldCase(a, true).compareTo(foldCase(b, true));
        }

        @Override
        public Object groupKey(byte[] value) {
            return foldCase(value, true);
        }
    },
    /** Columns of type NULL: every value is equal. */
    NONE {
        @Override
        public int compare(byte[] a, byte[] b) {
            return 0;
        }

        @Override
        public Object groupKey(byte[] value) {
            return NONE;
        }
    };

    /** The order of a column's values. */
    public static ValueOrder of(ColumnInfo column) {
        return switch (column.type()) {
            case TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT, YEAR, BOOLEAN -> INTEGER;
            case DECIMAL -> DECIMAL;
            case FLOAT, DOUBLE -> FLOATING;
            case TIME -> TIME;
            case DATE, DATETIME, TIMESTAMP, BIT, BINARY, VARBINARY, BLOB, GEOMETRY, UUID -> BYTES;
            case CHAR, VARCHAR, TEXT, JSON, ENUM, SET -> column.binary() || column.collationId() == 63 ? BYTES
                    : io.shardgate.proxy.session.ClientCharset.byCollationId(column.collationId())
                            .filter(c -> c == io.shardgate.proxy.session.ClientCharset.LATIN1).isPresent()
                    ? CASE_INSENSITIVE_LATIN1 : CASE_INSENSITIVE;
            case NULL -> NONE;
        };
    }

    /**
     * A value with equals/hashCode that agree with this order's equality, for GROUP BY and DISTINCT.
     * Values of one column come from one column definition on every shard, so their text is canonical
     * and equal values have equal bytes, except under a case-insensitive collation.
     */
    public Object groupKey(byte[] value) {
        return ByteBuffer.wrap(value);
    }

    static String text(byte[] value) {
        return new String(value, StandardCharsets.ISO_8859_1); // numbers and times are ASCII
    }

    private static long parseLong(byte[] value) {
        long n = 0;
        int i = 0;
        boolean negative = value.length > 0 && value[0] == '-';
        if (negative || (value.length > 0 && value[0] == '+')) {
            i = 1;
        }
        for (; i < value.length; i++) {
            n = n * 10 + (value[i] - '0');
        }
        return negative ? -n : n;
    }

    /** {@code [-]H+:MM:SS[.ffffff]} as signed microseconds. */
    static long timeMicros(String text) {
        boolean negative = text.startsWith("-");
        String t = negative ? text.substring(1) : text;
        String[] hms = t.split(":");
        String[] secs = hms[hms.length - 1].split("\\.");
        long micros = 0;
        if (secs.length > 1) {
            String frac = (secs[1] + "000000").substring(0, 6);
            micros = Long.parseLong(frac);
        }
        long seconds = Long.parseLong(hms[0]) * 3600 + (hms.length > 1 ? Long.parseLong(hms[1]) * 60 : 0)
                + (hms.length > 2 ? Long.parseLong(secs[0]) : 0);
        long total = seconds * 1_000_000 + micros;
        return negative ? -total : total;
    }

    /** PAD SPACE, accent- and case-insensitive form of a UTF-8 string. */
    static String foldCase(byte[] value) {
        return foldCase(value, false);
    }

    /** PAD SPACE, accent- and case-insensitive form of a UTF-8 or (MySQL) latin1 string. */
    static String foldCase(byte[] value, boolean latin1) {
        int end = value.length;
        while (end > 0 && value[end - 1] == ' ') {
            end--;
        }
        boolean ascii = true;
        for (int i = 0; i < end; i++) {
            if (value[i] < 0) {
                ascii = false;
                break;
            }
        }
        String s = ascii ? new String(value, 0, end, StandardCharsets.ISO_8859_1)
                : latin1 ? io.shardgate.proxy.session.ClientCharset.LATIN1.decode(value, 0, end)
                : new String(value, 0, end, StandardCharsets.UTF_8);
        if (!ascii) {
            s = Normalizer.normalize(s, Normalizer.Form.NFD).replaceAll("\\p{M}", "");
        }
        return s.toUpperCase(Locale.ROOT);
    }
}
