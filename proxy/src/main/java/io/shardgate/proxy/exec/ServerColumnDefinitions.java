package io.shardgate.proxy.exec;

import com.mysql.cj.jdbc.JdbcConnection;
import com.mysql.cj.protocol.ColumnDefinition;
import com.mysql.cj.protocol.ProtocolEntity;
import com.mysql.cj.protocol.ProtocolEntityReader;
import com.mysql.cj.protocol.a.ColumnDefinitionReader;
import com.mysql.cj.protocol.a.NativeConstants.IntegerDataType;
import com.mysql.cj.protocol.a.NativePacketPayload;
import com.mysql.cj.protocol.a.NativeProtocol;
import com.mysql.cj.result.Field;
import com.mysql.cj.util.LazyString;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps a MySQL column definition's display length, flags and decimals as the server sent them on a Connector/J
 * connection. Connector/J rewrites them while reading ({@code ColumnDefinitionReader}: every integer, float and double
 * column gets its type's precision as its length, so {@code SELECT 1 + 1} reads as length 10 where the server said 3,
 * and a DECIMAL loses a digit; {@code Field} adds BINARY and BLOB flags to some types); the proxy writes a column
 * definition back to its client, which must see the server's. A connection's text and binary readers of column
 * definitions are replaced by {@link Reader}, whose {@link ServerField}s carry the server's values beside the driver's.
 *
 * <p>This leans on Connector/J internals (checked against 9.5.0), as {@link RawQuery} does: the protocol's
 * reader maps are protected fields, and {@code unpackField} is protected.
 */
public final class ServerColumnDefinitions {
    private static final VarHandle TEXT_READERS;
    private static final VarHandle BINARY_READERS;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(NativeProtocol.class, MethodHandles.lookup());
            TEXT_READERS = lookup.findVarHandle(NativeProtocol.class, "PROTOCOL_ENTITY_CLASS_TO_TEXT_READER", Map.class);
            BINARY_READERS = lookup.findVarHandle(NativeProtocol.class, "PROTOCOL_ENTITY_CLASS_TO_BINARY_READER", Map.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("Connector/J's NativeProtocol reader maps are not where 9.5.0 has them: " + e);
        }
    }

    private ServerColumnDefinitions() {}

    /** A column definition as Connector/J reads it, with the length, flags and decimals the server sent. */
    public static final class ServerField extends Field {
        private final long serverLength;
        private final int serverFlags;
        private final int serverDecimals;

        ServerField(Field f, long serverLength, int serverFlags, int serverDecimals) {
            super(lazy(f.getDatabaseName()), lazy(f.getTableName()), lazy(f.getOriginalTableName()), lazy(f.getName()),
                    lazy(f.getOriginalName()), f.getLength(), f.getMysqlTypeId(), f.getFlags(), f.getDecimals(),
                    f.getCollationIndex(), f.getEncoding(), f.getMysqlType());
            this.serverLength = serverLength;
            this.serverFlags = serverFlags;
            this.serverDecimals = serverDecimals;
        }

        private static LazyString lazy(String s) {
            return new LazyString(s == null ? "" : s);
        }

        public long serverLength() {
            return serverLength;
        }

        public int serverFlags() {
            return serverFlags;
        }

        public int serverDecimals() {
            return serverDecimals;
        }
    }

    /** Reads column definitions as Connector/J does and keeps the server's length, flags and decimals. */
    static final class Reader extends ColumnDefinitionReader {
        private final NativeProtocol protocol;

        Reader(NativeProtocol protocol) {
            super(protocol);
            this.protocol = protocol;
        }

        @Override
        protected Field unpackField(NativePacketPayload packet, String characterSetMetadata) {
            int start = packet.getPosition();
            Field f = super.unpackField(packet, characterSetMetadata);
            int end = packet.getPosition();
            packet.setPosition(start);
            for (int i = 0; i < 6; i++) { // catalog, schema, table, original table, name, original name
                long n = packet.readInteger(IntegerDataType.INT_LENENC);
                packet.setPosition(packet.getPosition() + (int) n);
            }
            packet.readInteger(IntegerDataType.INT_LENENC); // length of the fixed fields
            packet.readInteger(IntegerDataType.INT2); // collation
            long length = packet.readInteger(IntegerDataType.INT4);
            packet.readInteger(IntegerDataType.INT1); // type
            int flags = (int) packet.readInteger(protocol.getServerSession().hasLongColumnInfo() ? IntegerDataType.INT2 : IntegerDataType.INT1);
            int decimals = (int) packet.readInteger(IntegerDataType.INT1);
            packet.setPosition(end);
            return new ServerField(f, length, flags & 0xFFFF, decimals);
        }
    }

    /** Makes {@code c} (a Connector/J connection, possibly pooled) read column definitions with {@link Reader}; once per connection. */
    public static void install(Connection c) throws SQLException {
        NativeProtocol protocol = ((com.mysql.cj.NativeSession) c.unwrap(JdbcConnection.class).getSession()).getProtocol();
        install(protocol, TEXT_READERS);
        install(protocol, BINARY_READERS);
    }

    private static void install(NativeProtocol protocol, VarHandle readers) {
        @SuppressWarnings("unchecked")
        Map<Class<? extends ProtocolEntity>, ProtocolEntityReader<?, ?>> current =
                (Map<Class<? extends ProtocolEntity>, ProtocolEntityReader<?, ?>>) readers.get(protocol);
        if (current == null || current.get(ColumnDefinition.class) instanceof Reader) {
            return;
        }
        Map<Class<? extends ProtocolEntity>, ProtocolEntityReader<?, ?>> replaced = new HashMap<>(current);
        replaced.put(ColumnDefinition.class, new Reader(protocol));
        readers.set(protocol, Map.copyOf(replaced));
    }
}
