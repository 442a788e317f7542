package io.shardgate.proxy.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.proxy.mysql.codec.Capabilities;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A minimal MySQL client on a plain socket, for sending exactly the bytes a test needs. */
public final class RawClient implements AutoCloseable {
    /** One packet as read from the wire. */
    public record Packet(int sequenceId, byte[] payload) {
        int errno() {
            assertThat(payload[0] & 0xFF).as("an ERR packet").isEqualTo(0xFF);
            return (payload[1] & 0xFF) | (payload[2] & 0xFF) << 8;
        }

        String sqlState() {
            return new String(payload, 4, 5, StandardCharsets.US_ASCII);
        }

        String message() {
            return new String(payload, 9, payload.length - 9, StandardCharsets.UTF_8);
        }

        /** Status flags of an OK packet whose affected-rows and insert-id fit in one byte each. */
        int okStatus() {
            assertThat(payload[0]).as("an OK packet: " + Arrays.toString(payload)).isEqualTo((byte) 0);
            return (payload[3] & 0xFF) | (payload[4] & 0xFF) << 8;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    public RawClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(5000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Reads the handshake and logs in with mysql_native_password; returns the OK. */
    public Packet login(String user, String password) throws IOException {
        return login(user, password, 0);
    }

    /** Logs in asking for these capabilities as well (CLIENT_MULTI_STATEMENTS, CLIENT_DEPRECATE_EOF, …). */
    public Packet login(String user, String password, int moreCapabilities) throws IOException {
        byte[] hs = read().payload();
        assertThat(hs[0]).as("protocol version 10").isEqualTo((byte) 10);
        int at = indexOf(hs, 1, (byte) 0) + 1 + 4;
        byte[] nonce = new byte[20];
        System.arraycopy(hs, at, nonce, 0, 8);
        at += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
        System.arraycopy(hs, at, nonce, 8, 12);
        byte[] scramble = password.isEmpty() ? new byte[0] : MySqlAuth.nativeScramble(password, nonce);
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        int caps = Capabilities.PROTOCOL_41 | Capabilities.SECURE_CONNECTION | Capabilities.PLUGIN_AUTH | moreCapabilities;
        p.writeBytes(new byte[] {(byte) caps, (byte) (caps >> 8), (byte) (caps >> 16), (byte) (caps >> 24)});
        p.writeBytes(new byte[] {0, 0, 0, 1, 45});
        p.writeBytes(new byte[23]);
        p.writeBytes((user + "\0").getBytes(StandardCharsets.UTF_8));
        p.write(scramble.length);
        p.writeBytes(scramble);
        p.writeBytes("mysql_native_password\0".getBytes(StandardCharsets.US_ASCII));
        write(1, p.toByteArray());
        return read();
    }

    /** Sends one command (sequence id 0) and reads the first packet of the answer. */
    Packet command(int command, String argument) throws IOException {
        return command(command, argument.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends one command with binary arguments (sequence id 0) and reads the first packet of the answer. */
    public Packet command(int command, byte[] arg) throws IOException {
        byte[] payload = new byte[1 + arg.length];
        payload[0] = (byte) command;
        System.arraycopy(arg, 0, payload, 1, arg.length);
        write(0, payload);
        return read();
    }

    void write(int sequenceId, byte[] payload) throws IOException {
        out.write(new byte[] {(byte) payload.length, (byte) (payload.length >> 8), (byte) (payload.length >> 16), (byte) sequenceId});
        out.write(payload);
        out.flush();
    }

    void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public Packet read() throws IOException {
        byte[] header = new byte[4];
        in.readFully(header);
        int length = (header[0] & 0xFF) | (header[1] & 0xFF) << 8 | (header[2] & 0xFF) << 16;
        byte[] payload = new byte[length];
        in.readFully(payload);
        return new Packet(header[3] & 0xFF, payload);
    }

    /** The server closed the connection: end of stream (or a reset) rather than more data. */
    void assertClosed() throws IOException {
        try {
            assertThat(in.read()).as("end of stream").isEqualTo(-1);
        } catch (java.net.SocketException | EOFException e) {
            // reset by the server: closed as well
        }
    }

    private static int indexOf(byte[] b, int from, byte x) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == x) {
                return i;
            }
        }
        throw new AssertionError("no NUL terminator in the handshake");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
