package io.shardgate.proxy.pg.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import io.shardgate.proxy.pg.message.PgServerMessage;
import io.shardgate.proxy.session.ColumnInfo;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes {@link PgServerMessage}s as protocol 3.0 messages: a type byte, an int32 length counting itself, the body. */
public final class PgMessageEncoder extends MessageToByteEncoder<PgServerMessage> {

    public PgMessageEncoder() {
        super(PgServerMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, PgServerMessage msg, ByteBuf out) {
        switch (msg) {
            case PgServerMessage.EncryptionRefused ignored -> out.writeByte('N');
            case PgServerMessage.AuthenticationOk ignored -> authentication(out, 0, new byte[0]);
            case PgServerMessage.AuthenticationMd5 m -> authentication(out, 5, m.salt());
            case PgServerMessage.AuthenticationSasl s -> {
                int start = begin(out, 'R');
                out.writeInt(10);
                for (String mechanism : s.mechanisms()) {
                    cString(out, mechanism);
                }
                out.writeByte(0);
                end(out, start);
            }
            case PgServerMessage.AuthenticationSaslContinue c -> authentication(out, 11, c.data());
            case PgServerMessage.AuthenticationSaslFinal f -> authentication(out, 12, f.data());
            case PgServerMessage.ParameterStatus p -> {
                int start = begin(out, 'S');
                cString(out, p.name());
                cString(out, p.value());
                end(out, start);
            }
            case PgServerMessage.BackendKeyData k -> {
                int start = begin(out, 'K');
                out.writeInt(k.processId()).writeInt(k.secretKey());
                end(out, start);
            }
            case PgServerMessage.ReadyForQuery r -> {
                int start = begin(out, 'Z');
                out.writeByte(r.status());
                end(out, start);
            }
            case PgServerMessage.RowDescription d -> rowDescription(out, d.columns(), d.formats());
            case PgServerMessage.DataRows d -> dataRows(out, d);
            case PgServerMessage.CommandComplete c -> {
                int start = begin(out, 'C');
                cString(out, c.tag());
                end(out, start);
            }
            case PgServerMessage.EmptyQueryResponse ignored -> empty(out, 'I');
            case PgServerMessage.CopyInResponse c -> {
                int start = begin(out, 'G');
                out.writeByte(0);
                out.writeShort(c.columns());
                for (int i = 0; i < c.columns(); i++) {
                    out.writeShort(0);
                }
                end(out, start);
            }
            case PgServerMessage.ErrorResponse e -> {
                int start = begin(out, e.notice() ? 'N' : 'E');
                field(out, 'S', e.severity());
                field(out, 'V', e.severity());
                field(out, 'C', e.sqlState());
                field(out, 'M', e.message());
                for (char code : PgServerMessage.ErrorResponse.FIELD_ORDER.toCharArray()) {
                    String value = e.fields().get(code);
                    if (value != null) {
                        field(out, code, value);
                    }
                }
                out.writeByte(0);
                end(out, start);
            }
            case PgServerMessage.ParseComplete ignored -> empty(out, '1');
            case PgServerMessage.BindComplete ignored -> empty(out, '2');
            case PgServerMessage.CloseComplete ignored -> empty(out, '3');
            case PgServerMessage.NoData ignored -> empty(out, 'n');
            case PgServerMessage.PortalSuspended ignored -> empty(out, 's');
            case PgServerMessage.ParameterDescription p -> {
                int start = begin(out, 't');
                out.writeShort(p.typeOids().size());
                p.typeOids().forEach(out::writeInt);
                end(out, start);
            }
        }
    }

    private static void rowDescription(ByteBuf out, List<ColumnInfo> columns, List<Short> formats) {
        int start = begin(out, 'T');
        out.writeShort(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            ColumnInfo c = columns.get(i);
            int oid = PgTypes.oid(c);
            cString(out, c.name());
            out.writeInt(c.pgTableOid()); // the catalog shard's, or 0 (see ColumnInfo)
            out.writeShort(c.pgColumnNumber());
            out.writeInt(oid);
            out.writeShort(PgTypes.typeLength(oid));
            out.writeInt(c.pgTypeOid() != 0 ? c.pgTypeModifier() : -1);
            out.writeShort(formats.get(i));
        }
        end(out, start);
    }

    private static void dataRows(ByteBuf out, PgServerMessage.DataRows d) {
        int n = d.columns().size();
        int[] binaryOids = new int[n];
        for (int i = 0; i < n; i++) {
            binaryOids[i] = d.formats().get(i) == 1 ? PgTypes.oid(d.columns().get(i)) : -1;
        }
        for (byte[][] row : d.rows()) {
            int start = begin(out, 'D');
            out.writeShort(n);
            for (int i = 0; i < n; i++) {
                byte[] v = row[i];
                if (v == null) {
                    out.writeInt(-1);
                    continue;
                }
                byte[] bytes = binaryOids[i] >= 0 ? PgTypes.toBinary(binaryOids[i], v) : v;
                out.writeInt(bytes.length).writeBytes(bytes);
            }
            end(out, start);
        }
    }

    private static void authentication(ByteBuf out, int kind, byte[] data) {
        int start = begin(out, 'R');
        out.writeInt(kind).writeBytes(data);
        end(out, start);
    }

    private static void empty(ByteBuf out, char type) {
        out.writeByte(type).writeInt(4);
    }

    private static void field(ByteBuf out, char code, String value) {
        out.writeByte(code);
        cString(out, value);
    }

    private static void cString(ByteBuf out, String s) {
        out.writeCharSequence(s.replace('\0', ' '), StandardCharsets.UTF_8);
        out.writeByte(0);
    }

    /** Writes the type byte and a length placeholder; returns where the length goes. */
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
