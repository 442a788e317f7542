package io.shardgate.proxy.mysql.codec;

import java.util.HashMap;
import java.util.Map;

/**
 * Protocol state of one client connection, shared by its decoder, encoder and handler (all on the
 * connection's event loop, except {@link #prepared} which the handler updates before it writes the
 * prepare answer). Keeping it here lets the decoder emit fully typed messages: COM_STMT_EXECUTE can
 * only be parsed knowing the statement's parameter count and the types bound last time.
 */
public final class ConnectionState {

    /** Where the conversation stands; decides how the next client packet is read. */
    public enum Phase { HANDSHAKE_RESPONSE, AUTH_SWITCH_RESPONSE, COMMAND }

    /** Parameter facts of a prepared statement that the execute decoder needs. */
    static final class PreparedParams {
        final int count;
        byte[] types;
        final Map<Integer, java.io.ByteArrayOutputStream> longData = new HashMap<>();

        PreparedParams(int count) {
            this.count = count;
        }
    }

    private final int maxPacketBytes;
    private volatile Phase phase = Phase.HANDSHAKE_RESPONSE;
    private volatile int capabilities = Capabilities.SERVER;
    private int nextSequence;
    private final Map<Integer, PreparedParams> prepared = new java.util.concurrent.ConcurrentHashMap<>();

    public ConnectionState(int maxPacketBytes) {
        if (maxPacketBytes < 1024) {
            throw new IllegalArgumentException("max packet size must be at least 1024 bytes, was " + maxPacketBytes);
        }
        this.maxPacketBytes = maxPacketBytes;
    }

    public int maxPacketBytes() {
        return maxPacketBytes;
    }

    public Phase phase() {
        return phase;
    }

    public void phase(Phase phase) {
        this.phase = phase;
    }

    /** Capabilities in force: the server's, until the client's answer narrows them. */
    public int capabilities() {
        return capabilities;
    }

    public void negotiated(int clientCapabilities) {
        this.capabilities = Capabilities.SERVER & clientCapabilities;
    }

    /**
     * COM_SET_OPTION: turns multi-statement messages on or off for the rest of the connection, as a server does by
     * changing the client's CLIENT_MULTI_STATEMENTS flag.
     */
    public void multiStatements(boolean on) {
        capabilities = on ? capabilities | Capabilities.MULTI_STATEMENTS : capabilities & ~Capabilities.MULTI_STATEMENTS;
    }

    public boolean has(int capability) {
        return (capabilities & capability) != 0;
    }

    /** Sequence id of the next packet the server sends. */
    int takeSequence() {
        int s = nextSequence;
        nextSequence = (nextSequence + 1) & 0xFF;
        return s;
    }

    /** Sequence id the next packet would get, to {@link #restoreSequence} if a message is abandoned. */
    public int peekSequence() {
        return nextSequence;
    }

    void restoreSequence(int sequenceId) {
        nextSequence = sequenceId;
    }

    /** A client packet with this sequence id arrived: the answer continues from the next id. */
    void received(int sequenceId) {
        nextSequence = (sequenceId + 1) & 0xFF;
    }

    public void registerPrepared(int statementId, int parameterCount) {
        prepared.put(statementId, new PreparedParams(parameterCount));
    }

    public void forgetPrepared(int statementId) {
        prepared.remove(statementId);
    }

    /** Drops long data sent for a statement (COM_STMT_RESET, and after every execute). */
    public void resetLongData(int statementId) {
        PreparedParams p = prepared.get(statementId);
        if (p != null) {
            p.longData.clear();
        }
    }

    public void clearPrepared() {
        prepared.clear();
    }

    PreparedParams prepared(int statementId) {
        return prepared.get(statementId);
    }
}
