package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.ProxyInfo;
import io.shardgate.state.Versioned;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * A store in which a "worker" rewrites a migration record just before each of the next
 * {@code races} compare-and-sets of it, so that the caller's expected version is stale: the race a
 * CLI request loses while a migration runs.
 */
final class RacingClusterStore implements ClusterStore {
    private final ClusterStore delegate;
    private final UnaryOperator<MigrationRecord> worker;
    private int racesLeft;
    private int racesRun;

    RacingClusterStore(ClusterStore delegate, int races, UnaryOperator<MigrationRecord> worker) {
        this.delegate = delegate;
        this.racesLeft = races;
        this.worker = worker;
    }

    int racesRun() {
        return racesRun;
    }

    @Override
    public int casMigration(MigrationRecord record, int expectedVersion) {
        if (racesLeft > 0) {
            racesLeft--;
            racesRun++;
            Versioned<MigrationRecord> current = delegate.readMigration(record.id()).orElseThrow();
            delegate.casMigration(worker.apply(current.value()), current.version());
        }
        return delegate.casMigration(record, expectedVersion);
    }

    @Override
    public String clusterName() {
        return delegate.clusterName();
    }

    @Override
    public boolean clusterExists() {
        return delegate.clusterExists();
    }

    @Override
    public void createCluster(ClusterDefinition definition, SlotMap slotMap, boolean force) {
        delegate.createCluster(definition, slotMap, force);
    }

    @Override
    public Versioned<ClusterDefinition> readDefinition() {
        return delegate.readDefinition();
    }

    @Override
    public int casDefinition(ClusterDefinition definition, int expectedVersion) {
        return delegate.casDefinition(definition, expectedVersion);
    }

    @Override
    public Versioned<SlotMap> readSlotMap() {
        return delegate.readSlotMap();
    }

    @Override
    public int casSlotMap(SlotMap slotMap, int expectedVersion) {
        return delegate.casSlotMap(slotMap, expectedVersion);
    }

    @Override
    public void createMigration(MigrationRecord record) {
        delegate.createMigration(record);
    }

    @Override
    public Optional<Versioned<MigrationRecord>> readMigration(String id) {
        return delegate.readMigration(id);
    }

    @Override
    public List<MigrationRecord> listMigrations() {
        return delegate.listMigrations();
    }

    @Override
    public void deleteMigration(String id) {
        delegate.deleteMigration(id);
    }

    @Override
    public java.util.Optional<io.shardgate.state.Versioned<byte[]>> readOperation(String name) {
        return delegate.readOperation(name);
    }

    @Override
    public int writeOperation(String name, byte[] data, int expectedVersion) {
        return delegate.writeOperation(name, data, expectedVersion);
    }

    @Override
    public void deleteOperation(String name) {
        delegate.deleteOperation(name);
    }

    @Override
    public java.util.Optional<io.shardgate.state.Versioned<Long>> readSequence(String table) {
        return delegate.readSequence(table);
    }

    @Override
    public int writeSequence(String table, long next, int expectedVersion) {
        return delegate.writeSequence(table, next, expectedVersion);
    }

    @Override
    public java.util.SortedMap<String, Long> sequences() {
        return delegate.sequences();
    }

    @Override
    public void deleteSequence(String table) {
        delegate.deleteSequence(table);
    }

    @Override
    public void registerProxy(ProxyInfo proxy) {
        delegate.registerProxy(proxy);
    }

    @Override
    public void updateProxyEpoch(String proxyId, long appliedEpoch) {
        delegate.updateProxyEpoch(proxyId, appliedEpoch);
    }

    @Override
    public void unregisterProxy(String proxyId) {
        delegate.unregisterProxy(proxyId);
    }

    @Override
    public List<ProxyInfo> liveProxies() {
        return delegate.liveProxies();
    }

    @Override
    public void publishHotKeys(io.shardgate.state.HotKeyReport report) {
        delegate.publishHotKeys(report);
    }

    @Override
    public void withdrawHotKeys(String proxyId) {
        delegate.withdrawHotKeys(proxyId);
    }

    @Override
    public List<io.shardgate.state.HotKeyReport> hotKeyReports() {
        return delegate.hotKeyReports();
    }

    @Override
    public void awaitEpoch(long epoch, Duration timeout) throws InterruptedException {
        delegate.awaitEpoch(epoch, timeout);
    }

    @Override
    public Subscription watch(Runnable listener) {
        return delegate.watch(listener);
    }

    @Override
    public Subscription onConnectionChange(ConnectionListener listener) {
        return delegate.onConnectionChange(listener);
    }

    @Override
    public io.shardgate.state.Leadership lead(String role, String participantId) {
        return delegate.lead(role, participantId);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
