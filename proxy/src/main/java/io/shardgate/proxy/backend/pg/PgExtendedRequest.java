package io.shardgate.proxy.backend.pg;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * A client's extended-protocol execution of a statement in the unnamed portal as one request to a shard: Parse (the
 * client's text and declared parameter types), Bind (the client's parameter formats and values, as sent, and its result
 * formats), Describe of the portal when the client asked for it, Execute of all rows, Sync. The client's own messages
 * re-framed; the values are never decoded, so the shard reads them exactly as a server the client talked to would.
 * A client's named statement ({@code named}) goes out as the connection's own named statement
 * ({@link PgPreparedStatements}): parsed with the first execution on that connection, then only bound and executed.
 *
 * @param sql              the statement text (UTF-8 on the wire)
 * @param parameterTypes   the Parse's parameter type OIDs (0: let the server infer)
 * @param parameterFormats the Bind's parameter format codes (none, one for all, or one each)
 * @param values           the Bind's values (null: SQL NULL)
 * @param resultFormats    the Bind's result format codes
 * @param describe         send Describe of the portal (the client did): the reply has a RowDescription or NoData
 * @param named            the client's statement is a named one, kept prepared on the shard's connection
 * @param answersClient    the shard's reply answers the client's Parse (if it sent one: {@code clientParse}) and Bind:
 *                         their ParseComplete and BindComplete, or the error in their place, go to the client as they
 *                         come (else the front end answered them itself)
 * @param clientParse      the client sent this execution's Parse with it (only with {@code answersClient})
 * @param parsedNanos      when the client's Parse of a named statement came ({@link System#nanoTime}): see
 *                         {@link PgPreparedStatements} on schema changes
 */
public record PgExtendedRequest(String sql, List<Integer> parameterTypes, List<Short> parameterFormats, List<byte[]> values,
        List<Short> resultFormats, boolean describe, boolean named, boolean answersClient, boolean clientParse,
        long parsedNanos) {
    public PgExtendedRequest {
        Objects.requireNonNull(sql, "sql");
        parameterTypes = List.copyOf(parameterTypes);
        parameterFormats = List.copyOf(parameterFormats);
        values = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(values));
        resultFormats = List.copyOf(resultFormats);
    }

    /** What of the reply to {@code parse} (whether the request parses the statement) answers the client's messages. */
    PgRelaySink.Answers answers(boolean parse) {
        if (!answersClient) {
            return PgRelaySink.Answers.NONE;
        }
        return new PgRelaySink.Answers(clientParse && parse, true, clientParse && !parse);
    }

    /** The messages of an unnamed statement, Parse to Sync, ready to write. */
    public ByteBuf encode() {
        return encode("", true, List.of());
    }

    /** The messages as {@code use} of a connection's prepared statements says (see {@link #encode(String, boolean, List)}). */
    ByteBuf encode(PgPreparedStatements.Use use) {
        return encode(use.name(), use.parse(), use.closed());
    }

    /**
     * The messages for the shard's statement {@code name} ("" the unnamed one): Close of each of {@code closed} (the
     * connection's statements it no longer keeps), Parse when {@code parse}, then Bind to Sync.
     */
    ByteBuf encode(String name, boolean parse, List<String> closed) {
        byte[] text = parse ? sql.getBytes(StandardCharsets.UTF_8) : new byte[0];
        byte[] statement = name.getBytes(StandardCharsets.US_ASCII);
        ByteBuf out = Unpooled.buffer(64 + text.length + 16 * closed.size() + 8 * values.size());
        writeCloses(out, closed);
        int start;
        if (parse) {
            start = begin(out, 'P');
            out.writeBytes(statement).writeByte(0).writeBytes(text).writeByte(0).writeShort(parameterTypes.size());
            parameterTypes.forEach(out::writeInt);
            end(out, start);
        }
        start = begin(out, 'B');
        out.writeByte(0).writeBytes(statement).writeByte(0).writeShort(parameterFormats.size());
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

    /**
     * A Describe of the connection's statement for {@code sql} ({@code use}: Close of the statements it no longer keeps,
     * Parse with {@code parameterTypes} when not parsed yet), then Sync.
     */
    static ByteBuf describeStatement(String sql, List<Integer> parameterTypes, PgPreparedStatements.Use use) {
        byte[] statement = use.name().getBytes(StandardCharsets.US_ASCII);
        ByteBuf out = Unpooled.buffer(64 + sql.length() * 3 + 16 * use.closed().size());
        writeCloses(out, use.closed());
        if (use.parse()) {
            int start = begin(out, 'P');
            out.writeBytes(statement).writeByte(0).writeBytes(sql.getBytes(StandardCharsets.UTF_8)).writeByte(0)
                    .writeShort(parameterTypes.size());
            parameterTypes.forEach(out::writeInt);
            end(out, start);
        }
        out.writeByte('D').writeInt(4 + 1 + statement.length + 1).writeByte('S').writeBytes(statement).writeByte(0);
        out.writeByte('S').writeInt(4);
        return out;
    }

    /** A Close of each of the statements {@code names}. */
    private static void writeCloses(ByteBuf out, List<String> names) {
        for (String old : names) {
            byte[] n = old.getBytes(StandardCharsets.US_ASCII);
            out.writeByte('C').writeInt(4 + 1 + n.length + 1).writeByte('S').writeBytes(n).writeByte(0);
        }
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
