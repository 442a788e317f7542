package io.shardgate.proxy.backend.pg;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A server's ErrorResponse (or NoticeResponse): its fields by code, in the order sent ('S' severity, 'V' the same
 * untranslated, 'C' SQLSTATE, 'M' message, 'D' detail, …).
 */
public record PgServerError(Map<Character, String> fields) {
    public PgServerError {
        fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /** Parses an ErrorResponse or NoticeResponse body (fields, each a code byte and a C string, then a zero byte). */
    public static PgServerError parse(ByteBuf body) {
        ByteBuf p = body.duplicate();
        Map<Character, String> fields = new LinkedHashMap<>();
        while (p.isReadable()) {
            byte code = p.readByte();
            if (code == 0) {
                break;
            }
            int end = p.bytesBefore((byte) 0);
            if (end < 0) {
                throw new IllegalArgumentException("error field '" + (char) code + "' without its terminating zero byte");
            }
            fields.put((char) code, p.readCharSequence(end, StandardCharsets.UTF_8).toString());
            p.skipBytes(1);
        }
        return new PgServerError(fields);
    }

    public String sqlState() {
        return fields.getOrDefault('C', "XX000");
    }

    public String message() {
        return fields.getOrDefault('M', "");
    }

    public String severity() {
        return fields.getOrDefault('V', fields.getOrDefault('S', "ERROR"));
    }

    @Override
    public String toString() {
        return severity() + " " + sqlState() + ": " + message();
    }
}
