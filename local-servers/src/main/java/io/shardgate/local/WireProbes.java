package io.shardgate.local;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Raw-protocol readiness checks: one TCP connection that reads the server's first answer, no driver needed.
 * Each returns null when the server answered as a ready server does, or else a short reason.
 */
final class WireProbes {
    private static final int CONNECT_TIMEOUT_MS = 1000;
    private static final int READ_TIMEOUT_MS = 3000;

    private WireProbes() {
    }

    /** MySQL/MariaDB: the server speaks first with an initial handshake packet (protocol version 10). */
    static String mysqlHandshake(String host, int port) throws IOException {
        try (Socket socket = connect(host, port)) {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] header = new byte[4];
            in.readFully(header);
            int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
            byte[] payload = new byte[Math.min(length, 1 << 16)];
            in.readFully(payload);
            if (payload.length > 0 && payload[0] == 10) {
                return null;
            }
            if (payload.length > 3 && (payload[0] & 0xff) == 0xff) {
                return "server sent error: " + new String(payload, 3, payload.length - 3, StandardCharsets.UTF_8);
            }
            return "unexpected first packet (protocol byte " + (payload.length > 0 ? payload[0] & 0xff : -1) + ")";
        }
    }

    /**
     * PostgreSQL: sends a v3 StartupMessage for user and database "postgres" and reads the first reply. An
     * authentication request ('R') means the server accepts connections; an error ('E', e.g. "the database system is
     * starting up") means not yet.
     */
    static String postgresStartup(String host, int port) throws IOException {
        try (Socket socket = connect(host, port)) {
            byte[] params = "user\0postgres\0database\0postgres\0\0".getBytes(StandardCharsets.US_ASCII);
            ByteBuffer startup = ByteBuffer.allocate(8 + params.length).putInt(8 + params.length).putInt(196608).put(params);
            OutputStream out = socket.getOutputStream();
            out.write(startup.array());
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int type = in.readUnsignedByte();
            int length = in.readInt();
            if (type == 'R') {
                out.write(new byte[] {'X', 0, 0, 0, 4}); // Terminate
                out.flush();
                return null;
            }
            if (type == 'E' && length > 4 && length < 1 << 16) {
                byte[] body = new byte[length - 4];
                in.readFully(body);
                return "server sent error: " + postgresErrorMessage(body);
            }
            return "unexpected first message type '" + (char) type + "'";
        }
    }

    private static String postgresErrorMessage(byte[] body) {
        // fields: a type byte, then a NUL-terminated string; 'M' is the human-readable message
        int i = 0;
        while (i < body.length && body[i] != 0) {
            byte field = body[i++];
            int end = i;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            if (field == 'M') {
                return new String(body, i, end - i, StandardCharsets.UTF_8);
            }
            i = end + 1;
        }
        return "(no message)";
    }

    private static Socket connect(String host, int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }
}
