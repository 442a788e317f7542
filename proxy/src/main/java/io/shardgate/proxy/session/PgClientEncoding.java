package io.shardgate.proxy.session;

import java.util.Locale;
import java.util.Optional;

/**
 * The PostgreSQL client encodings the proxy serves. Its shards are spoken to through pgJDBC, which always uses UTF8, so
 * a client must send and receive UTF8 bytes: {@code UTF8} (alias {@code UNICODE}), and {@code SQL_ASCII}, for which a
 * UTF8 server does no conversion either way and validates input as UTF8 (PostgreSQL's pg_any_to_server), so its bytes
 * are a UTF8 client's. Any other encoding would need the conversion the shards are never asked to do: refused.
 */
public final class PgClientEncoding {
    public static final String SUPPORTED = "UTF8 (or SQL_ASCII, which a UTF8 server does not convert)";

    private PgClientEncoding() {}

    /** The canonical name of a served encoding (PostgreSQL ignores case and punctuation in the name), or empty. */
    public static Optional<String> served(String name) {
        String n = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        return switch (n) {
            case "utf8", "unicode" -> Optional.of("UTF8");
            case "sqlascii" -> Optional.of("SQL_ASCII");
            default -> Optional.empty();
        };
    }

    /**
     * PostgreSQL's own error text for the first invalid UTF-8 sequence in text decoded by {@link ClientCharset#decode}
     * (each invalid byte is a lone surrogate there), e.g. {@code invalid byte sequence for encoding "UTF8": 0xc3 0x28};
     * empty for valid text. As the server, it shows as many bytes as the lead byte announces (pg_utf_mblen).
     */
    public static Optional<String> invalidUtf8(String text) {
        int first = -1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0xDC80 && c <= 0xDCFF) {
                first = i;
                break;
            }
        }
        if (first < 0) {
            return Optional.empty();
        }
        byte[] before = ClientCharset.UTF8MB4.encode(text.substring(0, first));
        byte[] all = ClientCharset.UTF8MB4.encode(text);
        int at = before.length;
        int lead = all[at] & 0xFF;
        int length = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
        StringBuilder shown = new StringBuilder();
        for (int i = at; i < Math.min(all.length, at + length); i++) {
            shown.append(i == at ? "" : " ").append(String.format("0x%02x", all[i] & 0xFF));
        }
        return Optional.of("invalid byte sequence for encoding \"UTF8\": " + shown);
    }
}
