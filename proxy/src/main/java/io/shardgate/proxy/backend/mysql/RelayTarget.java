package io.shardgate.proxy.backend.mysql;

import io.netty.channel.Channel;
import java.util.Objects;

/**
 * Where a relayed reply goes: the client's channel, whether the client asked for {@code DEPRECATE_EOF} and
 * {@code CLIENT_FOUND_ROWS} (the reply comes from a backend connection with the same flags, so it is the packets a server
 * would send this client), and the sequence id the reply's first packet takes.
 */
public record RelayTarget(Channel client, boolean deprecateEof, boolean foundRows, int firstSequence) {
    public RelayTarget {
        Objects.requireNonNull(client, "client");
    }
}
