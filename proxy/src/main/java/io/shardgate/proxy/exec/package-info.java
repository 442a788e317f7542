/**
 * Running statements on shards: one HikariCP pool per shard ({@link io.shardgate.proxy.exec.ShardPools}),
 * Connector/J settings that keep results byte-exact ({@link io.shardgate.proxy.exec.BackendUrl}), the
 * statement runner ({@link io.shardgate.proxy.exec.ShardExecutor}), the translation of backend failures
 * ({@link io.shardgate.proxy.exec.BackendErrors}), per-connection session-setting tracking
 * ({@link io.shardgate.proxy.exec.ConnectionStates}), and, in {@code merge}, the pure merge of multi-shard
 * results.
 */
package io.shardgate.proxy.exec;
