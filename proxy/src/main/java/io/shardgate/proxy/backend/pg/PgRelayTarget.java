package io.shardgate.proxy.backend.pg;

import io.netty.channel.Channel;
import java.util.Objects;

/**
 * Where a relayed reply goes: the client's channel, whether the RowDescription may keep the shard's table OIDs and
 * attribute numbers (only the catalog shard's name the tables a client's pg_catalog lookup through the proxy finds; see
 * {@code ColumnInfo#pgTableOid}), and the session's handle for a CancelRequest.
 */
public record PgRelayTarget(Channel client, boolean keepTableOids, PgCancelHandle cancel) {
    public PgRelayTarget {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(cancel, "cancel");
    }
}
