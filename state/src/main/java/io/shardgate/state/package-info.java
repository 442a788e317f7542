/**
 * Cluster state: the definition, the slot map, migrations and live proxies of one cluster, behind
 * the narrow {@link io.shardgate.state.ClusterStore} interface.
 *
 * <h2>Implementations</h2>
 * <ul>
 *   <li>{@link io.shardgate.state.zk.ZooKeeperClusterStore}: the real one (Curator); layout and
 *       timeouts in {@link io.shardgate.state.zk}.</li>
 *   <li>{@link io.shardgate.state.memory.InMemoryClusterStore}: its twin for unit tests and
 *       single-process demos.</li>
 * </ul>
 * Both pass one contract suite ({@code ClusterStoreContract} in this module's test jar). The error
 * contract is written on {@link io.shardgate.state.ClusterStore}: only the subclasses of the sealed
 * {@link io.shardgate.state.StoreException} escape a store.
 *
 * <h2>Epochs and the barrier</h2>
 * Every slot-map change is a compare-and-set on the node version that must also raise the epoch.
 * Each proxy runs a {@link io.shardgate.state.RoutingSnapshotWatcher}: on a change it reads the
 * definition and the slot map, builds an immutable {@link io.shardgate.router.RoutingSnapshot},
 * swaps it in, runs its snapshot listeners, and only then writes the epoch into its ephemeral
 * proxy node. {@link io.shardgate.state.ClusterStore#awaitEpoch} is the barrier: it returns once
 * every <em>live</em> proxy shows an epoch at least the one asked for. A proxy whose node
 * disappears (process gone, session expired) stops counting; with no live proxy the barrier
 * returns at once. A timeout throws {@link io.shardgate.state.BarrierTimeoutException} naming each
 * laggard and its epoch, and the caller aborts the step.
 *
 * <h2>Cluster sequences</h2>
 * A sharded table's AUTO_INCREMENT / serial column is filled by the proxies from the table's cluster
 * sequence ({@link io.shardgate.state.ClusterStore#readSequence}), a node per table in the store rather
 * than a sequence table on a shard: the store is the one place every proxy, the migrator and the CLI
 * already reach, it does not move with slots or fail with a shard, and a compare-and-set on it is cheap
 * once per block. {@link io.shardgate.state.SequenceBlocks} reserves blocks of 1,000 ids per proxy;
 * {@link io.shardgate.state.SequenceDeclaration} is the one place a sequence is declared (sequence node
 * first, above the rows, then the definition, then an epoch every live proxy acknowledges).
 *
 * <h2>Fencing</h2>
 * {@link io.shardgate.state.RoutingSnapshotWatcher#fenced()} turns true on SUSPENDED or LOST, which
 * ZooKeeper reports before the server can expire the session, and false only after the state has
 * been read again on a live connection. A fenced proxy must stop writes to moving slots.
 */
package io.shardgate.state;
