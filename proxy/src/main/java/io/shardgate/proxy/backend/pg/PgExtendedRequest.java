package io.shardgate.proxy.backend.pg;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * A client's extended-protocol execution of an unnamed statement and portal as one request to a shard: Parse (the
 * client's text and declared parameter types), Bind (the client's parameter formats and values, as sent, and its result
 * formats), Describe of the portal when the client asked for it, Execute of all rows, Sync. The client's own messages
 * re-framed; the values are never decoded, so the shard reads them exactly as a server the client talked to would.
 *
 * @param sql              the statement text (UTF-8 on the wire)
 * @param parameterTypes   the Parse's parameter type OIDs (0: let the server infer)
 * @param parameterFormats the Bind's parameter format codes (none, one for all, or one each)
 * @param values           the Bind's values (null: SQL NULL)
 * @param resultFormats    the Bind's result format codes
 * @param describe         send Describe of the portal (the client did): the reply has a RowDescription or NoData
 */
public record PgExtendedRequest(String sql, List<Integer> parameterTypes, List<Short> parameterFormats, List<byte[]> values,
        List<Short> resultFormats, boolean describe) {
    public PgExtendedRequest {
        Objects.requireNonNull(sql, "sql");
        parameterTypes = List.copyOf(parameterTypes);
        parameterFormats = List.copyOf(parameterFormats);
        values = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(values));
        resultFormats = List.copyOf(resultFormats);
    }

    /** The messages, Parse to Sync, ready to write. */
    public ByteBuf encode() {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuf out = Unpooled.buffer(64 + text.length + 8 * values.size());
        int start = begin(out, 'P');
        out.writeByte(0).writeBytes(text).writeByte(0).writeShort(parameterTypes.size());
        parameterTypes.forEach(out::writeInt);
        end(out, start);
        start = begin(out, 'B');
        out.writeByte(0).writeByte(0).writeShort(parameterFormats.size());
        parameterFormats.forEach(f -> out.writeShort(f));
        out.writeShort(values.size());
        for (byte[] v : values) {
            if (v == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(v.length).writeBytes(v);
            }
        }
        out.writeShort(resultFormats.size());
        resultFormats.forEach(f -> out.writeShort(f));
        end(out, start);
        if (describe) {
            out.writeByte('D').writeInt(4 + 1 + 1).writeByte('P').writeByte(0);
        }
        out.writeByte('E').writeInt(4 + 1 + 4).writeByte(0).writeInt(0);
        out.writeByte('S').writeInt(4);
        return out;
    }

    private static int begin(ByteBuf out, char type) {
        out.writeByte(type);
        int at = out.writerIndex();
        out.writeInt(0);
        return at;
    }

    private static void end(ByteBuf out, int lengthAt) {
        out.setInt(lengthAt, out.writerIndex() - lengthAt);
    }
}
