/**
 * Native PostgreSQL backend connections: the proxy speaks the frontend side of protocol 3.0 to its PostgreSQL shards on
 * Netty, without pgJDBC, so that a reply can be relayed to the client message by message as it arrives (DESIGN.md,
 * "The data path"). The PostgreSQL twin of {@code backend.mysql}:
 * {@link io.shardgate.proxy.backend.pg.PgBackendConnection} is one connection (StartupMessage, trust, cleartext, md5 or
 * SCRAM-SHA-256 authentication, ParameterStatus and BackendKeyData kept, then one request at a time whose reply
 * messages go to a {@link io.shardgate.proxy.backend.pg.PgReplySink} unmodified, the reply ending at ReadyForQuery);
 * {@link io.shardgate.proxy.backend.pg.PgFrameDecoder} cuts the byte stream into messages;
 * {@link io.shardgate.proxy.backend.pg.PgPool} keeps such connections per shard and
 * {@link io.shardgate.proxy.backend.pg.PgNativeBackends} owns the pools and the relay.
 *
 * <p>The event loops are {@code io.shardgate.proxy.backend.BackendEventLoops}, shared with the MySQL side.
 */
package io.shardgate.proxy.backend.pg;
