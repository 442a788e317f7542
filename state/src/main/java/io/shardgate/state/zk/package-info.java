/**
 * The ZooKeeper cluster store (Curator) and an embedded ZooKeeper server for one-machine setups.
 *
 * <h2>Layout</h2>
 * <pre>
 * /shardgate/&lt;cluster&gt;/
 *   definition          persistent  cluster definition as JSON (ClusterDefinitionCodec)
 *   slotmap             persistent  slot map as JSON (SlotMapCodec), epoch inside
 *   migrations/&lt;id&gt;     persistent  one MigrationRecord as JSON per migration
 *   proxies/&lt;id&gt;        EPHEMERAL   one ProxyInfo as JSON per live proxy (appliedEpoch = its ack)
 *   hotkeys/&lt;id&gt;       EPHEMERAL   the latest HotKeyReport as JSON of one proxy (rewritten every few seconds)
 *   sequences/&lt;table&gt;  persistent  the table's cluster sequence: the first id no proxy has reserved, in decimal
 *   leaders/&lt;role&gt;      persistent  a Curator LeaderLatch; its EPHEMERAL_SEQUENTIAL children are the participants
 * </pre>
 * {@code definition} and {@code slotmap} are created in one multi-op transaction. Versions are
 * znode versions. Replacing a cluster ({@code force}) overwrites both nodes in one transaction, so
 * versions keep growing and a compare-and-set prepared before the replace fails; its migrations
 * are then deleted (not atomically with the replace); proxies and sequences stay (a sequence never goes
back, so rows left on the shards never meet a reused id). Proxies may register before
 * the cluster exists.
 *
 * <h2>Errors and timeouts</h2>
 * ZooKeeper codes map to the store's contract in one place ({@code ZkErrors}): NoNode → NotFound,
 * NodeExists → AlreadyExists, BadVersion → VersionConflict, ConnectionLoss / SessionExpired /
 * OperationTimeout / RequestTimeout (and any other refusal) → Unavailable; messages name the action,
 * the path and the cluster. No call blocks for long while ZooKeeper is away: a call made while
 * disconnected waits at most {@link io.shardgate.state.zk.ZooKeeperSettings#operationTimeout()} for
 * a connection and then fails with Unavailable; a call caught by a disconnect mid-flight is bounded
 * by Curator's retry policy (2 retries) and the per-request timeout, so at most about three
 * operation timeouts. {@code connect} fails after the connect timeout.
 *
 * <h2>Proxies and sessions</h2>
 * A proxy node is kept by Curator's {@code PersistentNode} recipe in EPHEMERAL mode: after a session
 * expiry and a reconnect the recipe re-creates it with the latest data this store wrote, so the
 * re-created node shows the last acknowledged epoch. Registering an id whose node another session
 * still holds adopts that node (a restarted proxy need not wait for its old session to expire);
 * proxy ids must therefore be unique among running proxies.
 *
 * <h2>Hot-key reports</h2>
 * A report node is a plain EPHEMERAL node of the publishing session: each publish writes it, or
 * creates it when it is missing (first publish, or the old session expired), so a proxy that keeps
 * publishing reappears by itself after a session loss, and one that stops vanishes with its session.
 *
 * <h2>Leader election</h2>
 * {@code lead(role, id)} starts a Curator {@code LeaderLatch} with the default (standard) connection
 * error policy: the latch drops leadership as soon as the connection is SUSPENDED, before the
 * session can expire and another participant be elected, and re-joins the election after
 * RECONNECTED. Closing the store closes its latches.
 *
 * <h2>Watches</h2>
 * Two single-node {@code CuratorCache}s follow {@code definition} and {@code slotmap}; each
 * subscriber is called on a thread of its own (never ZooKeeper's event thread), once at once, after
 * every change (coalesced), and after every RECONNECTED, since changes may have been missed.
 */
package io.shardgate.state.zk;
