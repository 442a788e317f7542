package io.shardgate.proxy.backend.pg;

import io.netty.channel.Channel;
import java.util.Objects;

/**
 * Where a relayed reply goes: the client's channel, whether the RowDescription may keep the shard's table OIDs and
 * attribute numbers (only the catalog shard's name the tables a client's pg_catalog lookup through the proxy finds; see
 * {@code ColumnInfo#pgTableOid}), and the running statement's tracker (its deadline, a CancelRequest, the client going
 * away cancel the relayed statement on its shard; a deadline replaces the shard's error with the proxy's).
 */
public record PgRelayTarget(Channel client, boolean keepTableOids, io.shardgate.proxy.exec.ShardWork.Tracker tracker) {
    public PgRelayTarget {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(tracker, "tracker");
    }
}
