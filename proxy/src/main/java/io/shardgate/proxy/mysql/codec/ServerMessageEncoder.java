package io.shardgate.proxy.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.mysql.message.ServerMessage;
import io.shardgate.proxy.session.ColumnInfo;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@link ServerMessage}s as MySQL packets: each payload is framed with its length and the
 * connection's next sequence id, and payloads of 16 MiB or more are split as the protocol requires.
 */
public final class ServerMessageEncoder extends MessageToByteEncoder<ServerMessage> {
    private static final Logger LOG = LoggerFactory.getLogger(ServerMessageEncoder.class);
    private static final byte[] CATALOG = {3, 'd', 'e', 'f'};
    private final ConnectionState connection;
    /**
     * Rows of the streamed result set now going out could not be encoded and an ERR went in their place: the rest of
     * that result is dropped (after an ERR the client reads no more of it). Event loop only.
     */
    private boolean streamFailed;

    public ServerMessageEncoder(ConnectionState connection) {
        super(ServerMessage.class);
        this.connection = connection;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ServerMessage msg, ByteBuf out) {
        int start = out.writerIndex();
        int sequence = connection.peekSequence();
        try {
            write(out, msg);
        } catch (RuntimeException e) {
            // A value that cannot be encoded (say a backend's text that does not parse as the column's
            // binary type) must not leave the client waiting for an answer that never comes: drop what
            // was written of this message and answer with an error in its place.
            LOG.error("cannot encode {} for the client", msg.getClass().getSimpleName(), e);
            out.writerIndex(start);
            connection.restoreSequence(sequence);
            streamFailed = msg instanceof ServerMessage.ResultRows;
            packet(out, p -> err(p, new ServerMessage.Err(ErrorCode.INTERNAL.mysqlErrno(), ErrorCode.INTERNAL.mysqlSqlState(),
                    "internal error in Shardgate: cannot encode the " + msg.getClass().getSimpleName() + " for the client: "
                            + e + "; see the proxy log")));
        }
    }

    private void write(ByteBuf out, ServerMessage msg) {
        switch (msg) {
            case ServerMessage.Handshake h -> packet(out, p -> handshake(p, h));
            case ServerMessage.AuthSwitchRequest a -> packet(out, p -> {
                p.writeByte(0xFE);
                Wire.writeNulString(p, a.plugin());
                p.writeBytes(a.data()).writeByte(0);
            });
            case ServerMessage.AuthMoreData a -> packet(out, p -> p.writeByte(0x01).writeBytes(a.data()));
            case ServerMessage.Ok ok -> packet(out, p -> ok(p, 0x00, ok.affectedRows(), ok.lastInsertId(), ok.status(), ok.warnings(), ok.info()));
            case ServerMessage.Err err -> packet(out, p -> err(p, err));
            case ServerMessage.Eof eof -> end(out, eof.status(), eof.warnings());
            case ServerMessage.ResultSet rs -> resultSet(out, rs);
            case ServerMessage.ResultSetHead h -> {
                streamFailed = false;
                head(out, h.columns(), h.status(), 0);
            }
            case ServerMessage.ResultRows r -> {
                if (!streamFailed) {
                    rows(out, r.columns(), r.rows(), r.binary());
                }
            }
            case ServerMessage.ResultSetEnd e -> {
                if (!streamFailed) {
                    end(out, e.status(), e.warnings());
                }
                streamFailed = false;
            }
            case ServerMessage.FieldList fl -> {
                for (ColumnInfo c : fl.columns()) {
                    // a COM_FIELD_LIST column definition ends with the column's default value: NULL here
                    packet(out, p -> {
                        column(p, c);
                        p.writeByte(0xFB);
                    });
                }
                packet(out, p -> p.writeByte(0xFE).writeShortLE(0).writeShortLE(fl.status()));
            }
            case ServerMessage.PrepareOk po -> prepareOk(out, po);
        }
    }

    private interface PayloadWriter {
        void write(ByteBuf payload);
    }

    /** Writes one logical packet, splitting it into 0xFFFFFF-byte pieces if it is that large. */
    private void packet(ByteBuf out, PayloadWriter writer) {
        int headerAt = out.writerIndex();
        out.writeMediumLE(0).writeByte(0);
        int start = out.writerIndex();
        writer.write(out);
        int length = out.writerIndex() - start;
        if (length < MySqlFrameDecoder.MAX_PIECE) {
            out.setMediumLE(headerAt, length);
            out.setByte(headerAt + 3, connection.takeSequence());
            return;
        }
        ByteBuf payload = out.copy(start, length);
        out.writerIndex(headerAt);
        try {
            int offset = 0;
            while (true) {
                int piece = Math.min(MySqlFrameDecoder.MAX_PIECE, length - offset);
                out.writeMediumLE(piece).writeByte(connection.takeSequence());
                out.writeBytes(payload, offset, piece);
                offset += piece;
                if (piece < MySqlFrameDecoder.MAX_PIECE) {
                    break;
                }
            }
        } finally {
            payload.release();
        }
    }

    private static void handshake(ByteBuf p, ServerMessage.Handshake h) {
        p.writeByte(10);
        Wire.writeNulString(p, h.serverVersion());
        p.writeIntLE(h.connectionId());
        p.writeBytes(h.nonce(), 0, 8).writeByte(0);
        p.writeShortLE(h.capabilities() & 0xFFFF);
        p.writeByte(h.collation());
        p.writeShortLE(h.status());
        p.writeShortLE(h.capabilities() >>> 16);
        p.writeByte(h.nonce().length + 1);
        p.writeZero(10);
        p.writeBytes(h.nonce(), 8, h.nonce().length - 8).writeByte(0);
        Wire.writeNulString(p, h.authPlugin());
    }

    /**
     * An OK packet. The info text ("Records: 2  Duplicates: 0 ...") is length-encoded: the protocol
     * documents it as the packet's rest without CLIENT_SESSION_TRACK, but MySQL and MariaDB servers
     * write it with net_store_data (length-prefixed) either way, and Connector/J and libmariadb read it so.
     */
    private static void ok(ByteBuf p, int header, long affected, long lastInsertId, int status, int warnings, String info) {
        p.writeByte(header);
        Wire.writeLenEnc(p, affected);
        Wire.writeLenEnc(p, lastInsertId);
        p.writeShortLE(status);
        p.writeShortLE(warnings);
        if (!info.isEmpty()) {
            Wire.writeLenEncString(p, info);
        }
    }

    private static void err(ByteBuf p, ServerMessage.Err err) {
        p.writeByte(0xFF).writeShortLE(err.errno()).writeByte('#');
        String state = (err.sqlState() + "HY000").substring(0, 5);
        p.writeBytes(state.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        p.writeBytes(Wire.text(err.message()));
    }

    /** The end of a result set or definitions: an EOF packet, or an 0xFE-OK with CLIENT_DEPRECATE_EOF. */
    private void end(ByteBuf out, int status, int warnings) {
        if (connection.has(Capabilities.DEPRECATE_EOF)) {
            packet(out, p -> ok(p, 0xFE, 0, 0, status, warnings, ""));
        } else {
            eof(out, status, warnings);
        }
    }

    private void eof(ByteBuf out, int status, int warnings) {
        packet(out, p -> p.writeByte(0xFE).writeShortLE(warnings).writeShortLE(status));
    }

    private void resultSet(ByteBuf out, ServerMessage.ResultSet rs) {
        head(out, rs.columns(), rs.status(), rs.warnings());
        rows(out, rs.columns(), rs.rows(), rs.binary());
        end(out, rs.status(), rs.warnings());
    }

    private void head(ByteBuf out, List<ColumnInfo> columns, int status, int warnings) {
        packet(out, p -> Wire.writeLenEnc(p, columns.size()));
        for (ColumnInfo c : columns) {
            packet(out, p -> column(p, c));
        }
        if (!connection.has(Capabilities.DEPRECATE_EOF)) {
            eof(out, status, warnings);
        }
    }

    private void rows(ByteBuf out, List<ColumnInfo> columns, List<byte[][]> rows, boolean binary) {
        for (byte[][] row : rows) {
            if (binary) {
                packet(out, p -> BinaryRows.write(p, columns, row));
            } else {
                packet(out, p -> textRow(p, row));
            }
        }
    }

    private static void textRow(ByteBuf p, byte[][] row) {
        for (byte[] v : row) {
            if (v == null) {
                p.writeByte(0xFB);
            } else {
                Wire.writeLenEncBytes(p, v);
            }
        }
    }

    static void column(ByteBuf p, ColumnInfo c) {
        p.writeBytes(CATALOG);
        // names in their wire form (see ColumnInfo): exactly the bytes the server sent
        Wire.writeLenEncBytes(p, Wire.text(c.schema()));
        Wire.writeLenEncBytes(p, Wire.text(c.table()));
        Wire.writeLenEncBytes(p, Wire.text(c.orgTable()));
        Wire.writeLenEncBytes(p, Wire.text(c.name()));
        Wire.writeLenEncBytes(p, Wire.text(c.orgName()));
        p.writeByte(0x0C);
        p.writeShortLE(c.collationId());
        p.writeIntLE((int) Math.min(c.length(), 0xFFFFFFFFL));
        // a backend's column goes back with the server's own type byte and flags (see ColumnInfo.MySqlWire)
        p.writeByte(MySqlTypes.wireType(c));
        p.writeShortLE(MySqlTypes.wireFlags(c));
        p.writeByte(c.decimals());
        p.writeShortLE(0);
    }

    private void prepareOk(ByteBuf out, ServerMessage.PrepareOk po) {
        packet(out, p -> p.writeByte(0).writeIntLE(po.statementId()).writeShortLE(po.columns().size())
                .writeShortLE(po.parameters().size()).writeByte(0).writeShortLE(po.warnings()));
        definitions(out, po.parameters(), po.status());
        definitions(out, po.columns(), po.status());
    }

    private void definitions(ByteBuf out, List<ColumnInfo> defs, int status) {
        if (defs.isEmpty()) {
            return;
        }
        for (ColumnInfo c : defs) {
            packet(out, p -> column(p, c));
        }
        if (!connection.has(Capabilities.DEPRECATE_EOF)) {
            eof(out, status, 0);
        }
    }
}
