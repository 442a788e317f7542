package io.shardgate.migrator;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.HotKeyReport;
import io.shardgate.state.Leadership;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.StoreException;
import io.shardgate.state.Versioned;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The migration worker: a background thread that joins the {@value #ROLE} leader election and,
 * while it leads, runs the cluster's migrations. Migrations run in {@link Migrations#RUN_ORDER}, one
 * at a time up to the end of their cutover; one that then waits in REVERSE_DUAL_WRITE for the
 * operator (or sits FAILED) lets the next one start. Any number of workers may run; one leads, the
 * others wait and take over from the records' checkpoints if it goes away.
 *
 * <pre>{@code
 * try (MigrationWorker worker = MigrationWorker.start(store, WorkerSettings.defaults("worker-1"))) {
 *     ...
 * }
 * }</pre>
 */
public final class MigrationWorker implements AutoCloseable {
    /** The leader-election role of migration workers. */
    public static final String ROLE = "migrator";
    private static final Logger LOG = LoggerFactory.getLogger(MigrationWorker.class);
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);

    private final ClusterStore store;
    private final WorkerSettings settings;
    private final Leadership leadership;
    private final Fence fence;
    private final Thread thread;
    private final HotKeyPolicy policy;

    private MigrationWorker(ClusterStore store, WorkerSettings settings) {
        this.store = store;
        this.settings = settings;
        this.policy = settings.hotKeyPolicy() == null ? null : new HotKeyPolicy(settings.hotKeyPolicy());
        this.leadership = store.lead(ROLE, settings.workerId());
        this.fence = new Fence(leadership);
        this.thread = Thread.ofPlatform().name("shardgate-migrator-" + settings.workerId()).daemon().unstarted(this::run);
    }

    /** Joins the election and starts the worker's thread. */
    public static MigrationWorker start(ClusterStore store, WorkerSettings settings) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(settings, "settings");
        MigrationWorker worker = new MigrationWorker(store, settings);
        worker.thread.start();
        return worker;
    }

    /** Whether this worker leads now. */
    public boolean isLeader() {
        return leadership.isLeader();
    }

    public String workerId() {
        return settings.workerId();
    }

    /**
     * Stops the worker: the running chunk ends (its transactions roll back or commit), checkpoints
     * stay as last written, and the leadership goes to the next worker. Waits up to 30 s.
     */
    @Override
    public void close() {
        fence.stop();
        thread.interrupt();
        try {
            thread.join(JOIN_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("migration worker {} did not stop within {} ms", settings.workerId(), JOIN_TIMEOUT.toMillis());
        }
        leadership.close();
    }

    private void run() {
        LOG.info("migration worker {} started for cluster {}", settings.workerId(), store.clusterName());
        while (!fence.stopping()) {
            try {
                if (!leadership.awaitLeadership(settings.pollInterval())) {
                    continue;
                }
                Duration pause = tick() ? settings.pollInterval() : Duration.ofMillis(Math.min(50, settings.pollInterval().toMillis()));
                fence.sleep(pause);
            } catch (WorkerStoppedException e) {
                LOG.info("migration worker {}: {}", settings.workerId(), e.getMessage());
            } catch (InterruptedException e) {
                if (fence.stopping()) {
                    break;
                }
            } catch (RuntimeException e) {
                if (fence.stopping()) {
                    break;
                }
                LOG.warn("migration worker {}: {}", settings.workerId(), Causes.describe(e), e);
                sleepQuietly(settings.cutoverRetryBackoff());
            }
        }
        LOG.info("migration worker {} stopped", settings.workerId());
    }

    /**
     * One pass over the migrations; true when there is nothing to do right now (so the worker may
     * wait a poll interval), false when it should look again soon.
     */
    private boolean tick() throws InterruptedException {
        if (!store.clusterExists()) {
            return true;
        }
        List<MigrationRecord> records = store.listMigrations().stream()
                .filter(r -> !Migrations.Status.of(r).terminal())
                .sorted(Migrations.RUN_ORDER)
                .toList();
        for (MigrationRecord listed : records) {
            fence.check();
            Optional<Versioned<MigrationRecord>> current = store.readMigration(listed.id());
            if (current.isEmpty()) {
                continue;
            }
            MigrationRunner.Outcome outcome = advance(current.get());
            if (outcome == MigrationRunner.Outcome.BLOCKING) {
                return true;
            }
            if (outcome == MigrationRunner.Outcome.FINISHED) {
                return false;
            }
        }
        if (policy != null && records.isEmpty()) {
            applyHotKeyPolicy();
        }
        return true;
    }

    /**
     * The automatic policy's pass: rates summed over the live proxies' reports, decisions carried out
     * one by one with the operator. Runs only while no migration is under way (a split cannot land on
     * moving slots anyway). A failed split or merge is logged and tried again when the policy says so.
     */
    private void applyHotKeyPolicy() throws InterruptedException {
        Map<SplitKey.Id, Double> rates = new HashMap<>();
        for (HotKeyReport report : store.hotKeyReports()) {
            for (HotKeyReport.KeyRate k : report.keys()) {
                rates.merge(new SplitKey.Id(k.table(), k.key()), k.writesPerSecond(), Double::sum);
            }
        }
        SlotMap map = store.readSlotMap().value();
        Set<SplitKey.Id> split = map.splitKeys().stream().filter(k -> k.state() == SplitKey.State.SPLIT)
                .map(SplitKey::id).collect(Collectors.toSet());
        Set<SplitKey.Id> busy = map.splitKeys().stream().filter(k -> k.state().holds()).map(SplitKey::id)
                .collect(Collectors.toSet());
        Set<String> eligible = store.readDefinition().value().tables().values().stream()
                .filter(t -> !(t.hotKey() instanceof HotKeyMode.None)).map(TableDefinition::name).collect(Collectors.toSet());
        var decisions = policy.decide(rates, split, eligible, System.currentTimeMillis());
        HotKeyOperator.Settings d = HotKeyOperator.Settings.defaults();
        HotKeyOperator operator = new HotKeyOperator(store, new HotKeyOperator.Settings(settings.barrierTimeout(),
                settings.connectTimeout(), settings.lockWaitTimeout(), d.chunkRows(), d.leadershipTimeout()),
                line -> LOG.info("hot-key policy: {}", line));
        for (HotKeyPolicy.Decision decision : decisions) {
            fence.check();
            if (busy.contains(decision.key())) {
                continue;
            }
            try {
                switch (decision) {
                    case HotKeyPolicy.Decision.Split s -> {
                        LOG.info("hot-key policy: key {} of {} at {} writes/s: splitting over {} sub-keys", s.key().key(),
                                s.key().table(), Math.round(s.writesPerSecond()), s.k());
                        operator.split(s.key().table(), s.key().key(), s.k());
                    }
                    case HotKeyPolicy.Decision.Merge m -> {
                        LOG.info("hot-key policy: key {} of {} down to {} writes/s: merging", m.key().key(), m.key().table(),
                                Math.round(m.writesPerSecond()));
                        operator.merge(m.key().table(), m.key().key());
                    }
                }
            } catch (HotKeyOperator.HotKeyException e) {
                LOG.warn("hot-key policy: {}", e.getMessage());
            }
        }
    }

    private MigrationRunner.Outcome advance(Versioned<MigrationRecord> current) throws InterruptedException {
        ClusterDefinition definition = store.readDefinition().value();
        RecordHandle record = new RecordHandle(store, fence, current);
        long started = System.nanoTime();
        try (MigrationJob job = new MigrationJob(record, definition, fence, settings)) {
            SlotMapPublisher publisher = new SlotMapPublisher(store, fence, settings.barrierTimeout());
            return new MigrationRunner(store, job, publisher).advance();
        } catch (MigrationRefusedException e) {
            record.enter(Migrations.Status.FAILED, MigrationJob.map(Migrations.LAST_ERROR, e.getMessage()));
            return MigrationRunner.Outcome.WAITING;
        } catch (PhaseFailedException | StoreException e) {
            String error = e instanceof PhaseFailedException ? e.getMessage()
                    : "migration " + record.id() + " " + record.status() + ": cluster store failed after "
                            + (System.nanoTime() - started) / 1_000_000 + " ms: " + Causes.describe(e);
            LOG.warn("{}", error, e);
            recordError(record, error);
            fence.sleep(settings.cutoverRetryBackoff());
            return MigrationRunner.Outcome.BLOCKING;
        }
    }

    private void recordError(RecordHandle record, String error) {
        try {
            record.refresh();
            record.details(MigrationJob.map(Migrations.LAST_ERROR, error));
        } catch (StoreException e) {
            LOG.warn("migration {}: could not record the error in the store: {}", record.id(), e.getMessage());
        }
    }

    private void sleepQuietly(Duration d) {
        try {
            fence.sleep(d);
        } catch (WorkerStoppedException e) {
            LOG.debug("stopped while backing off", e);
        }
    }
}
