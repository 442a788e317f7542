package io.shardgate.proxy.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.mysql.message.ClientMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns logical packets into {@link ClientMessage}s according to the connection's phase. Anything
 * that does not parse raises {@link MySqlProtocolException}; the frame's buffer is always released.
 */
public final class ClientMessageDecoder extends MessageToMessageDecoder<MySqlFrameDecoder.Frame> {
    static final int COM_QUIT = 0x01;
    static final int COM_INIT_DB = 0x02;
    static final int COM_QUERY = 0x03;
    static final int COM_FIELD_LIST = 0x04;
    static final int COM_PING = 0x0E;
    static final int COM_CHANGE_USER = 0x11;
    static final int COM_STMT_PREPARE = 0x16;
    static final int COM_STMT_EXECUTE = 0x17;
    static final int COM_STMT_SEND_LONG_DATA = 0x18;
    static final int COM_STMT_CLOSE = 0x19;
    static final int COM_STMT_RESET = 0x1A;
    static final int COM_SET_OPTION = 0x1B;
    static final int COM_RESET_CONNECTION = 0x1F;

    private final ConnectionState connection;

    public ClientMessageDecoder(ConnectionState connection) {
        super(MySqlFrameDecoder.Frame.class);
        this.connection = connection;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, MySqlFrameDecoder.Frame frame, List<Object> out) {
        ByteBuf payload = frame.payload();
        try {
            out.add(switch (connection.phase()) {
                case HANDSHAKE_RESPONSE -> handshakeResponse(payload);
                case AUTH_SWITCH_RESPONSE -> new ClientMessage.AuthSwitchResponse(Wire.readBytes(payload, payload.readableBytes(), "auth data"));
                case COMMAND -> command(payload);
            });
        } finally {
            payload.release();
        }
    }

    private static ClientMessage handshakeResponse(ByteBuf buf) {
        Wire.need(buf, 32, "handshake response");
        int caps = buf.readIntLE();
        if ((caps & Capabilities.PROTOCOL_41) == 0) {
            throw Wire.malformed("client does not speak protocol 4.1 (capabilities 0x" + Integer.toHexString(caps) + ")");
        }
        int maxPacket = buf.readIntLE();
        int collation = buf.readUnsignedByte();
        buf.skipBytes(23);
        if (!buf.isReadable()) {
            return new ClientMessage.SslRequest(caps);
        }
        String user = Wire.readNulString(buf, "user name");
        byte[] auth;
        if ((caps & Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
            auth = Wire.readLenEncBytes(buf, "auth response");
        } else if ((caps & Capabilities.SECURE_CONNECTION) != 0) {
            Wire.need(buf, 1, "auth response length");
            auth = Wire.readBytes(buf, buf.readUnsignedByte(), "auth response");
        } else {
            auth = Wire.readNulString(buf, "auth response").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        String database = null;
        if ((caps & Capabilities.CONNECT_WITH_DB) != 0 && buf.isReadable()) {
            database = Wire.readNulString(buf, "database name");
        }
        String plugin = "";
        if ((caps & Capabilities.PLUGIN_AUTH) != 0 && buf.isReadable()) {
            plugin = Wire.readNulString(buf, "auth plugin name");
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        if ((caps & Capabilities.CONNECT_ATTRS) != 0 && buf.isReadable()) {
            long total = Wire.readLenEnc(buf, "connection attributes length");
            if (total < 0 || total > buf.readableBytes()) {
                throw Wire.malformed("connection attributes claim " + total + " bytes, " + buf.readableBytes() + " remain");
            }
            ByteBuf attrs = buf.readSlice((int) total);
            while (attrs.isReadable()) {
                attributes.put(Wire.readLenEncString(attrs, "connection attribute name"),
                        Wire.readLenEncString(attrs, "connection attribute value"));
            }
        }
        return new ClientMessage.HandshakeResponse(caps, maxPacket, collation, user, auth,
                database == null || database.isEmpty() ? null : database, plugin, attributes);
    }

    private ClientMessage command(ByteBuf buf) {
        Wire.need(buf, 1, "command");
        int command = buf.readUnsignedByte();
        return switch (command) {
            case COM_QUIT -> new ClientMessage.Quit();
            case COM_INIT_DB -> new ClientMessage.InitDb(Wire.readRestString(buf));
            case COM_QUERY -> new ClientMessage.Query(Wire.readBytes(buf, buf.readableBytes(), "COM_QUERY"));
            case COM_FIELD_LIST -> new ClientMessage.FieldList(Wire.readNulString(buf, "COM_FIELD_LIST table"),
                    Wire.readRestString(buf));
            case COM_PING -> new ClientMessage.Ping();
            case COM_CHANGE_USER -> new ClientMessage.ChangeUser(Wire.readNulString(buf, "COM_CHANGE_USER user name"));
            case COM_STMT_PREPARE -> new ClientMessage.StmtPrepare(Wire.readBytes(buf, buf.readableBytes(), "COM_STMT_PREPARE"));
            case COM_STMT_EXECUTE -> BinaryParameters.decodeExecute(buf, connection);
            case COM_STMT_SEND_LONG_DATA -> longData(buf);
            case COM_STMT_CLOSE -> new ClientMessage.StmtClose(statementId(buf));
            case COM_STMT_RESET -> new ClientMessage.StmtReset(statementId(buf));
            case COM_SET_OPTION -> {
                Wire.need(buf, 2, "COM_SET_OPTION");
                yield new ClientMessage.SetOption(buf.readUnsignedShortLE());
            }
            case COM_RESET_CONNECTION -> new ClientMessage.ResetConnection();
            default -> new ClientMessage.Unknown(command);
        };
    }

    private ClientMessage longData(ByteBuf buf) {
        int id = statementId(buf);
        Wire.need(buf, 2, "COM_STMT_SEND_LONG_DATA parameter");
        int param = buf.readUnsignedShortLE();
        ConnectionState.PreparedParams p = connection.prepared(id);
        if (p != null && param < p.count) {
            long size = p.longData.values().stream().mapToLong(java.io.ByteArrayOutputStream::size).sum() + buf.readableBytes();
            if (size > connection.maxPacketBytes()) {
                throw new MySqlProtocolException(ErrorCode.PACKET_TOO_LARGE, "long data for statement " + id + " exceeds "
                        + connection.maxPacketBytes() + " bytes (limits.max-packet-bytes)");
            }
            var chunk = p.longData.computeIfAbsent(param, k -> new java.io.ByteArrayOutputStream());
            byte[] data = Wire.readBytes(buf, buf.readableBytes(), "long data");
            chunk.writeBytes(data);
        }
        // unknown statements are reported at execute time, as the server does: this command has no answer
        return new ClientMessage.StmtSendLongData(id, param);
    }

    private static int statementId(ByteBuf buf) {
        Wire.need(buf, 4, "statement id");
        return buf.readIntLE();
    }
}
