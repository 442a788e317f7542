package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.error.ProxyException;

/**
 * Receives one command's reply, packet by packet, on the connection's event loop. Exactly one of these happens per
 * command: packets ending with one whose {@code last} is true, or (at any point) {@link #failed}. A sink that cannot
 * keep up calls {@link MySqlBackendConnection#pauseReading()} and later {@link MySqlBackendConnection#resumeReading()}.
 */
public interface ReplySink {
    /**
     * One physical packet as the server sent it: 4-byte header (length, sequence id) and payload, unmodified. The sink
     * owns {@code packet} and must release it.
     *
     * @param kind         what the packet is; a continuation piece carries its logical packet's kind
     * @param continuation this piece continues a logical packet larger than 16 MB (its first piece had length 0xFFFFFF)
     * @param last         the reply ends with this packet; the connection takes a new command already
     */
    void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last);

    /** The command failed: the connection is lost, hung, or sent something unexpected; it is closed already. */
    void failed(ProxyException error);

    /**
     * The packets of one read of the socket have all been given, and the reply goes on (its last packet has not come):
     * a sink that gathers packets can pass them on now instead of waiting for more.
     */
    default void readComplete() {
    }
}
