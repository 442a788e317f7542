/**
 * The plan executor: runs a {@link io.shardgate.router.plan.RoutePlan} that reaches shards (one shard, several with a
 * merge, broadcast, home-first writes to a split counter key, dual writes to moving slots) through a narrow
 * {@link io.shardgate.proxy.execute.BackendConnection} interface, with the session seen through a
 * {@link io.shardgate.proxy.execute.SessionCursor}. Nothing here knows JDBC or a wire protocol: the proxy core
 * implements both interfaces over its pooled JDBC connections, and the executor's unit tests over a logging fake.
 *
 * <ul>
 *   <li>{@link io.shardgate.proxy.execute.PlanExecutor}: single, multi (merge, partial-failure reporting naming the
 *       shards), broadcast, home-first; what a failure does to the session's transaction.</li>
 *   <li>{@code DualWriter}: a write and the copies of its keys' row images to the shadow shards, in the proxy's own
 *       transaction (retried on a deadlock or lock wait timeout) or in the client's (rolled back whole when a copy
 *       fails).</li>
 *   <li>{@code ShardCalls}: what both do around one call to a shard (metrics, the answering shard, what a failure does
 *       to the session's transaction).</li>
 * </ul>
 */
package io.shardgate.proxy.execute;
