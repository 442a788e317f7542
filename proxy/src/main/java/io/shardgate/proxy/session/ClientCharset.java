package io.shardgate.proxy.session;

import java.nio.charset.Charset;
import java.util.Locale;
import java.util.Optional;

/**
 * A client character set the proxy serves, with a LOSSLESS mapping between the client's bytes and a Java String:
 * {@code encode(decode(b))} is {@code b} for every byte array {@code b}. The router analyses Strings; whatever of a
 * statement it did not change goes back to the shard as exactly the client's bytes.
 *
 * <ul>
 *   <li>utf8mb4, utf8mb3 and binary: valid UTF-8 decodes as usual; each byte of an invalid sequence becomes the lone
 *       surrogate U+DC80+b (Python's "surrogateescape"), which valid UTF-8 can never produce (it cannot encode a
 *       surrogate), and encodes back to that byte.</li>
 *   <li>latin1 (MySQL's latin1 is cp1252, with the five bytes cp1252 leaves undefined mapped to U+0081 … U+009D as
 *       MySQL does): one byte, one character, both ways.</li>
 *   <li>ascii: bytes below 0x80 as themselves, the others as U+DC80+b.</li>
 * </ul>
 * Multi-byte sets whose second byte can be an ASCII quote or backslash (sjis, gbk, big5, cp932, gb18030) are not
 * served: a proxy that lexes their bytes as ASCII would misread where literals end. Other sets are not served for now.
 */
public enum ClientCharset {
    UTF8MB4("utf8mb4"),
    UTF8MB3("utf8mb3"),
    LATIN1("latin1"),
    ASCII("ascii"),
    BINARY("binary");

    /** What a refusal names. */
    public static final String SUPPORTED = "utf8mb4, utf8mb3 (utf8), latin1, ascii, binary";

    private static final int ESCAPE = 0xDC00;
    private static final char[] CP1252 = cp1252();

    private final String mysqlName;

    ClientCharset(String mysqlName) {
        this.mysqlName = mysqlName;
    }

    /** The name MySQL gives it ({@code SET NAMES} takes it). */
    public String mysqlName() {
        return mysqlName;
    }

    /** The character set of a MySQL name ({@code utf8} is utf8mb3's alias), or empty when it is not served. */
    public static Optional<ClientCharset> byName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "utf8mb4" -> Optional.of(UTF8MB4);
            case "utf8", "utf8mb3" -> Optional.of(UTF8MB3);
            case "latin1" -> Optional.of(LATIN1);
            case "ascii" -> Optional.of(ASCII);
            case "binary" -> Optional.of(BINARY);
            default -> Optional.empty();
        };
    }

    /** The character set of a collation name ({@code latin1_swedish_ci} → latin1), or empty when it is not served. */
    public static Optional<ClientCharset> byCollationName(String collation) {
        String c = collation.toLowerCase(Locale.ROOT);
        if (c.equals("binary")) {
            return Optional.of(BINARY);
        }
        int underscore = c.indexOf('_');
        return underscore < 0 ? Optional.empty() : byName(c.substring(0, underscore));
    }

    /**
     * The character set of a handshake collation id (one byte; MySQL and MariaDB agree on these), or empty when it is
     * not served. 0 (no preference) is the server default, utf8mb4.
     */
    public static Optional<ClientCharset> byCollationId(int id) {
        if (id == 0 || id == 45 || id == 46 || (id >= 224 && id <= 247) || id == 255) {
            return Optional.of(UTF8MB4);
        }
        if (id == 33 || id == 76 || id == 83 || (id >= 192 && id <= 215) || id == 223) {
            return Optional.of(UTF8MB3);
        }
        return switch (id) {
            case 5, 8, 15, 31, 47, 48, 49, 94 -> Optional.of(LATIN1);
            case 11, 65 -> Optional.of(ASCII);
            case 63 -> Optional.of(BINARY);
            default -> Optional.empty();
        };
    }

    /** Whether its bytes are UTF-8 (so the proxy's backends, which talk utf8mb4, need no SET NAMES for it). */
    public boolean utf8mb4() {
        return this == UTF8MB4;
    }

    /** The client's bytes as a String; see the class comment. */
    public String decode(byte[] b) {
        return decode(b, 0, b.length);
    }

    public String decode(byte[] b, int from, int to) {
        if (ascii(b, from, to)) {
            return new String(b, from, to - from, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
        return switch (this) {
            case UTF8MB4, UTF8MB3, BINARY -> decodeUtf8(b, from, to);
            case LATIN1 -> {
                char[] out = new char[to - from];
                for (int i = from; i < to; i++) {
                    out[i - from] = CP1252[b[i] & 0xFF];
                }
                yield new String(out);
            }
            case ASCII -> {
                char[] out = new char[to - from];
                for (int i = from; i < to; i++) {
                    int v = b[i] & 0xFF;
                    out[i - from] = (char) (v < 0x80 ? v : ESCAPE + v);
                }
                yield new String(out);
            }
        };
    }

    /**
     * A string-typed prepared-statement parameter: its text, losslessly; but bytes that are not valid UTF-8 in a UTF-8
     * set stay bytes (drivers bind binary values with string types, e.g. Connector/J's setBytes, and a server stores
     * them as they are): they go to the shard as a binary literal, which a server reads exactly so, without the
     * "invalid string" warning a text literal would raise.
     */
    public Object parameter(byte[] b) {
        String s = decode(b);
        if (this != LATIN1 && this != ASCII) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c >= ESCAPE + 0x80 && c <= ESCAPE + 0xFF) {
                    return b;
                }
            }
        }
        return s;
    }

    /**
     * The inverse of {@link #decode}: exactly the client's bytes for text that came from them. A character the set
     * cannot hold (only SQL the proxy wrote itself could have one) is an error, never a silent '?'.
     */
    public byte[] encode(String s) {
        int n = s.length();
        boolean ascii = true;
        for (int i = 0; i < n && ascii; i++) {
            ascii = s.charAt(i) < 0x80;
        }
        if (ascii) {
            return s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(n + 16);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= ESCAPE + 0x80 && c <= ESCAPE + 0xFF) {
                out.write(c - ESCAPE); // an escaped byte, in every set
            } else if (this == LATIN1) {
                out.write(latin1Byte(c));
            } else if (this == ASCII) {
                out.write(require(c, c < 0x80));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                utf8(out, Character.toCodePoint(c, s.charAt(++i)));
            } else {
                utf8(out, require(c, !Character.isSurrogate(c)));
            }
        }
        return out.toByteArray();
    }

    /**
     * {@code s} in this set with '?' for each character it cannot hold, as a server converts text for
     * character_set_results; an escaped byte (see the class comment) stays that byte.
     */
    public byte[] encodeReplacing(String s) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length() + 16);
        int i = 0;
        while (i < s.length()) {
            int end = i + Character.charCount(s.codePointAt(i));
            try {
                out.writeBytes(encode(s.substring(i, end)));
            } catch (IllegalArgumentException e) {
                out.write('?');
            }
            i = end;
        }
        return out.toByteArray();
    }

    private int require(char c, boolean ok) {
        if (!ok) {
            throw new IllegalArgumentException("U+" + Integer.toHexString(c).toUpperCase(Locale.ROOT) + " cannot be written in "
                    + mysqlName);
        }
        return c;
    }

    private int latin1Byte(char c) {
        if (c < 0x80 || (c >= 0xA0 && c <= 0xFF)) {
            return c; // cp1252 agrees with Latin-1 outside 0x80-0x9F
        }
        for (int b = 0x80; b < 0xA0; b++) {
            if (CP1252[b] == c) {
                return b;
            }
        }
        return require(c, false);
    }

    private static void utf8(java.io.ByteArrayOutputStream out, int cp) {
        if (cp < 0x80) {
            out.write(cp);
        } else if (cp < 0x800) {
            out.write(0xC0 | cp >> 6);
            out.write(0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            out.write(0xE0 | cp >> 12);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        } else {
            out.write(0xF0 | cp >> 18);
            out.write(0x80 | cp >> 12 & 0x3F);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        }
    }

    private static boolean ascii(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] < 0) {
                return false;
            }
        }
        return true;
    }

    /** Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF); every other byte escaped on its own. */
    private static String decodeUtf8(byte[] b, int from, int to) {
        StringBuilder out = new StringBuilder(to - from);
        int i = from;
        while (i < to) {
            int b0 = b[i] & 0xFF;
            int len = sequenceLength(b, i, to);
            if (len == 0) {
                out.append((char) (ESCAPE + b0));
                i++;
            } else if (len == 1) {
                out.append((char) b0);
                i++;
            } else {
                int cp = b0 & (0xFF >> (len + 1));
                for (int k = 1; k < len; k++) {
                    cp = cp << 6 | (b[i + k] & 0x3F);
                }
                out.appendCodePoint(cp);
                i += len;
            }
        }
        return out.toString();
    }

    /** The length of the valid UTF-8 sequence at {@code i}, or 0 when none starts there. */
    private static int sequenceLength(byte[] b, int i, int to) {
        int b0 = b[i] & 0xFF;
        if (b0 < 0x80) {
            return 1;
        }
        int len;
        int min;
        int max;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2;
            min = 0x80;
            max = 0xBF;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3;
            min = b0 == 0xE0 ? 0xA0 : 0x80;
            max = b0 == 0xED ? 0x9F : 0xBF; // ED A0..BF would be a surrogate
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4;
            min = b0 == 0xF0 ? 0x90 : 0x80;
            max = b0 == 0xF4 ? 0x8F : 0xBF;
        } else {
            return 0;
        }
        if (i + len > to) {
            return 0;
        }
        int b1 = b[i + 1] & 0xFF;
        if (b1 < min || b1 > max) {
            return 0;
        }
        for (int k = 2; k < len; k++) {
            int bk = b[i + k] & 0xFF;
            if (bk < 0x80 || bk > 0xBF) {
                return 0;
            }
        }
        return len;
    }

    private static char[] cp1252() {
        Charset cp1252 = Charset.forName("windows-1252");
        char[] table = new char[256];
        for (int b = 0; b < 256; b++) {
            String s = new String(new byte[] {(byte) b}, cp1252);
            char c = s.charAt(0);
            // the five bytes cp1252 leaves undefined: MySQL maps them to the C1 control of the same number
            table[b] = c == '\uFFFD' ? (char) b : c;
        }
        return table;
    }
}
