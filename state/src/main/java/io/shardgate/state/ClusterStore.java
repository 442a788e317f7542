package io.shardgate.state;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.slot.SlotMap;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The state of one cluster: its definition, its slot map, its migrations, its live proxies and
 * their hot-key reports.
 * Two implementations pass one contract suite: {@code ZooKeeperClusterStore} (Curator, the real
 * one; layout under {@code /shardgate/<cluster>/}) and {@code InMemoryClusterStore} (its twin for
 * unit tests and single-process demos).
 *
 * <h2>Error contract</h2>
 * Every method throws only {@link StoreException} subclasses:
 * <ul>
 *   <li>{@link StoreException.NotFound} when the cluster (or the named migration/proxy) does not exist;</li>
 *   <li>{@link StoreException.AlreadyExists} when a create finds the node present;</li>
 *   <li>{@link StoreException.VersionConflict} when a compare-and-set's expected version is stale;</li>
 *   <li>{@link StoreException.Unavailable} when the store cannot be reached within the client's
 *       timeout (a write may then have happened: read back before retrying);</li>
 *   <li>{@link StoreException.Corrupt} when a stored node does not decode.</li>
 * </ul>
 * Versions are the store's node versions: they start at 0 on create and grow by one per write.
 * Slot-map epochs are separate and chosen by the writer; {@link #casSlotMap} additionally refuses
 * a map whose epoch is not greater than the stored one.
 */
public interface ClusterStore extends AutoCloseable {

    /** Name of the cluster this store is bound to. */
    String clusterName();

    /** Whether the cluster has been initialised. */
    boolean clusterExists();

    /**
     * Creates the cluster with its definition and first slot map, atomically. With {@code force},
     * an existing cluster is replaced (its migrations are deleted; live proxies stay registered).
     */
    void createCluster(ClusterDefinition definition, SlotMap slotMap, boolean force);

    Versioned<ClusterDefinition> readDefinition();

    /** Replaces the definition if its node version is still {@code expectedVersion}; returns the new version. */
    int casDefinition(ClusterDefinition definition, int expectedVersion);

    Versioned<SlotMap> readSlotMap();

    /** Replaces the slot map if its node version is still {@code expectedVersion} and the epoch grows. */
    int casSlotMap(SlotMap slotMap, int expectedVersion);

    /** Creates a migration record; AlreadyExists if the id is taken. */
    void createMigration(MigrationRecord record);

    Optional<Versioned<MigrationRecord>> readMigration(String id);

    /** Replaces a migration record by compare-and-set; returns the new version. */
    int casMigration(MigrationRecord record, int expectedVersion);

    List<MigrationRecord> listMigrations();

    void deleteMigration(String id);

    /**
     * Reads an operation document: a small opaque record that a multi-step operator (the hot-key
     * operator's fold plan, for example) writes before touching data, so that a rerun after a crash
     * repeats the same decision instead of making a new one.
     */
    Optional<Versioned<byte[]>> readOperation(String name);

    /** Creates the document if {@code expectedVersion} is -1, else replaces it by compare-and-set; returns the new version. */
    int writeOperation(String name, byte[] data, int expectedVersion);

    /** Deletes the document if it exists. */
    void deleteOperation(String name);

    /**
     * The cluster sequence of {@code table}: the first id that no proxy has reserved yet (see
     * {@link SequenceBlocks}). Empty when the table has none. It is cluster state, not a shard's: ids
     * stay unique across proxies, restarts and slot moves.
     */
    Optional<Versioned<Long>> readSequence(String table);

    /**
     * Creates the sequence of {@code table} at {@code next} if {@code expectedVersion} is -1 (AlreadyExists
     * if it exists), else replaces it by compare-and-set; returns the new version. A sequence never goes
     * back: replacing it with a smaller {@code next} is a VersionConflict, so a stale writer cannot hand
     * out ids twice.
     */
    int writeSequence(String table, long next, int expectedVersion);

    /** Every table's sequence (the next unreserved id), sorted by table. */
    java.util.SortedMap<String, Long> sequences();

    /** Deletes the sequence of {@code table} if it exists. */
    void deleteSequence(String table);

    /**
     * Registers this process as a live proxy (an ephemeral node that disappears with the session).
     * Re-registering the same id after a session loss is allowed.
     */
    void registerProxy(ProxyInfo proxy);

    /** Publishes the epoch this proxy now routes with. */
    void updateProxyEpoch(String proxyId, long appliedEpoch);

    void unregisterProxy(String proxyId);

    /** Live proxies, sorted by id. */
    List<ProxyInfo> liveProxies();

    /**
     * Publishes {@code report} as the latest hot-key report of its proxy, replacing the previous one.
     * Like a proxy's registration it lives only as long as this store's session, so the reports of a
     * proxy that dies disappear; a report published after a session loss is kept by the new session.
     * Proxies may publish before the cluster exists.
     */
    void publishHotKeys(HotKeyReport report);

    /** Removes the hot-key report of {@code proxyId}; does nothing when it has none. */
    void withdrawHotKeys(String proxyId);

    /** The latest hot-key report of every proxy whose session is alive, sorted by proxy id. */
    List<HotKeyReport> hotKeyReports();

    /**
     * Blocks until every live proxy has applied an epoch of at least {@code epoch}. A proxy that
     * disappears while waiting no longer counts. Throws {@link BarrierTimeoutException} naming the
     * proxies that lag (and their epochs) when {@code timeout} passes first.
     */
    void awaitEpoch(long epoch, Duration timeout) throws InterruptedException;

    /**
     * Joins the leader election of {@code role} as {@code participantId}. Participants of one role
     * are served first come, first served; closing the returned {@link Leadership} (or the end of
     * this store's session) leaves the election and lets the next participant lead. Participant ids
     * are for display; two participants may share one.
     */
    Leadership lead(String role, String participantId);

    /**
     * Calls {@code listener} whenever the definition or the slot map may have changed, and once
     * right away. Notifications may be coalesced; listeners re-read what they need.
     */
    Subscription watch(Runnable listener);

    /** Observes the store's connection (for fencing: SUSPENDED must stop writes to moving slots). */
    Subscription onConnectionChange(ConnectionListener listener);

    @Override
    void close();

    /** A registration that can be cancelled. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    /** Connection states in Curator's sense: SUSPENDED comes before the session may expire. */
    enum ConnectionState { CONNECTED, SUSPENDED, RECONNECTED, LOST }

    @FunctionalInterface
    interface ConnectionListener {
        void stateChanged(ConnectionState state);
    }
}
