package io.shardgate.migrator;

import static io.shardgate.migrator.MigrationJob.map;

import io.shardgate.migrator.Migrations.Request;
import io.shardgate.migrator.Migrations.Status;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import io.shardgate.state.BarrierTimeoutException;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.ProxyInfo;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves one migration forward as far as it can go now, phase by phase (see the package
 * documentation for the protocol). Every phase change writes the record first, then the slot map,
 * then waits for the barrier; on resume a phase re-publishes its map if needed and waits again,
 * so a worker can die anywhere and the next one carries on from the record.
 */
final class MigrationRunner {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationRunner.class);

    /** What the worker does after {@link #advance}. */
    enum Outcome {
        /** The migration holds the slot-moving pipeline (still before or inside its cutover): run nothing after it. */
        BLOCKING,
        /** The migration waits for the operator (REVERSE_DUAL_WRITE, FAILED): the next one may run. */
        WAITING,
        /** Terminal. */
        FINISHED
    }

    private final ClusterStore store;
    private final MigrationJob job;
    private final RecordHandle record;
    private final SlotMapPublisher publisher;
    private final WorkerSettings settings;
    /** When this run published CUTOVER_PAUSE (writes can be held from then on); 0 when another run did. */
    private long pausePublishedAtMillis;

    MigrationRunner(ClusterStore store, MigrationJob job, SlotMapPublisher publisher) {
        this.store = store;
        this.job = job;
        this.record = job.record;
        this.publisher = publisher;
        this.settings = job.settings;
    }

    Outcome advance() throws InterruptedException {
        while (true) {
            try {
                Optional<Outcome> outcome = step();
                if (outcome.isPresent()) {
                    return outcome.get();
                }
            } catch (AbortRequestedException e) {
                LOG.info("{}", e.getMessage());
                record.refresh();
                startUndo();
            } catch (StopAdvancing e) {
                return Outcome.WAITING;
            }
        }
    }

    /** One phase; empty when the migration moved to another phase and should go on. */
    private Optional<Outcome> step() throws InterruptedException {
        Status status = record.status();
        Optional<Request> request = record.request();
        switch (status) {
            case PENDING -> {
                if (request.isPresent() && request.get() != Request.COMPLETE) {
                    finish(Status.ABORTED);
                    return Optional.of(Outcome.FINISHED);
                }
                preflightAndPublish();
            }
            case DUAL_WRITE -> {
                job.checkRequests();
                publishAndAwait(MigrationPhase.DUAL_WRITE);
                move(Status.BACKFILL, map());
            }
            case BACKFILL -> {
                job.checkRequests();
                publishAndAwait(MigrationPhase.BACKFILL);
                new Backfill(job).run();
                move(Status.VERIFY, map());
            }
            case VERIFY -> {
                job.checkRequests();
                if ("true".equals(record.checkpoint(Migrations.VERIFY_DONE))) {
                    // verified already (a cutover attempt failed): the next attempt has its own barrier
                    publisher.publishMoving(record.record(), MigrationPhase.VERIFY);
                } else {
                    publishAndAwait(MigrationPhase.VERIFY);
                }
                return verifyThenCutover();
            }
            case CUTOVER_PAUSE -> {
                job.checkRequests();
                return cutoverFromPause();
            }
            case REVERSE_DUAL_WRITE -> {
                return reverse(request);
            }
            case CLEANUP -> {
                cleanup();
                return Optional.of(Outcome.FINISHED);
            }
            case ABORTING, ROLLING_BACK -> {
                undo(status == Status.ABORTING ? Status.ABORTED : Status.ROLLED_BACK);
                return Optional.of(Outcome.FINISHED);
            }
            case FAILED -> {
                if (request.isPresent() && request.get() != Request.COMPLETE) {
                    startUndo();
                    return Optional.empty();
                }
                return Optional.of(Outcome.WAITING);
            }
            case DONE, ABORTED, ROLLED_BACK -> {
                return Optional.of(Outcome.FINISHED);
            }
        }
        return Optional.empty();
    }

    // ---- forward

    private void preflightAndPublish() throws InterruptedException {
        mergeSplitKeysInTheWay();
        List<String> created;
        try {
            created = new Preflight(job).run(publisher.current());
        } catch (MigrationRefusedException refused) {
            LOG.warn("{}", refused.getMessage());
            record.enter(Status.FAILED, map(Migrations.LAST_ERROR, "PENDING (preflight): " + refused.getMessage()));
            throw new StopAdvancing();
        }
        String proxies = proxySet();
        record.update(r -> RecordHandle.withCheckpoints(r, map(Migrations.MOVE_PUBLISHED, "true")));
        move(Status.DUAL_WRITE, map(Migrations.PROXIES_AT_DUAL_WRITE, proxies, Migrations.TABLES_CREATED, String.join(",", created)));
    }

    /** Record first, then the slot map, then the barrier. */
    private void move(Status next, Map<String, String> details) throws InterruptedException {
        record.enter(next, details);
        publishAndAwait(MigrationPhase.valueOf(next.name()));
    }

    private void publishAndAwait(MigrationPhase phase) throws InterruptedException {
        long epoch = publisher.publishMoving(record.record(), phase);
        awaitBarrier(epoch, phase.name());
    }

    private void awaitBarrier(long epoch, String what) throws InterruptedException {
        long started = System.nanoTime();
        try {
            publisher.barrier(epoch);
        } catch (BarrierTimeoutException e) {
            throw new PhaseFailedException("migration " + record.id() + " " + record.status() + ": barrier for " + what
                    + " (epoch " + epoch + ") failed after " + (System.nanoTime() - started) / 1_000_000 + " ms: "
                    + e.getMessage(), e);
        }
        if (record.longDetail(Migrations.EPOCH, -1) != epoch) {
            record.details(map(Migrations.EPOCH, Long.toString(epoch)));
        }
    }

    private Optional<Outcome> verifyThenCutover() throws InterruptedException {
        if (!"true".equals(record.checkpoint(Migrations.VERIFY_DONE))) {
            if (record.checkpoint(Migrations.VERIFY_PROXIES) == null) {
                record.update(r -> RecordHandle.withCheckpoints(r, map(Migrations.VERIFY_PROXIES,
                        System.currentTimeMillis() + ";" + proxySet())));
            }
            new Verifier(job).run();
            long passes = record.longDetail(Migrations.VERIFY_PASSES, 0) + 1;
            record.checkpoints(map(Migrations.VERIFY_DONE, "true"), map(Migrations.VERIFY_PASSES, Long.toString(passes)));
        }
        Optional<String> lost = lostProxies();
        if (lost.isPresent()) {
            verifyAgain("proxies left since the verify pass began (" + lost.get() + "); a dual write may have been cut short");
            return Optional.empty();
        }
        long notBefore = record.longDetail(Migrations.NEXT_CUTOVER_AT_MILLIS, 0);
        if (System.currentTimeMillis() < notBefore) {
            return Optional.of(Outcome.BLOCKING);
        }
        startCutover();
        return cutoverFromPause();
    }

    private void verifyAgain(String reason) {
        LOG.info("migration {}: verifying again: {}", record.id(), reason);
        Map<String, String> checkpoints = new HashMap<>();
        record.record().checkpoints().keySet().stream().filter(k -> k.startsWith(Migrations.VERIFY_CHECKPOINT))
                .forEach(k -> checkpoints.put(k, null));
        checkpoints.put(Migrations.VERIFY_DONE, null);
        checkpoints.put(Migrations.VERIFY_PROXIES, null);
        Map<String, String> details = new HashMap<>();
        record.record().details().keySet().stream().filter(k -> k.startsWith(Migrations.ROWS_VERIFIED))
                .forEach(k -> details.put(k, null));
        record.checkpoints(checkpoints, details);
    }

    private void startCutover() throws InterruptedException {
        long attempts = record.longDetail(Migrations.CUTOVER_ATTEMPTS, 0) + 1;
        record.enter(Status.CUTOVER_PAUSE, map(Migrations.CUTOVER_ATTEMPTS, Long.toString(attempts),
                Migrations.CUTOVER_STARTED_AT_MILLIS, Long.toString(System.currentTimeMillis())));
    }

    /**
     * CUTOVER_PAUSE then REVERSE_DUAL_WRITE. A timeout of the pause barrier goes back to VERIFY (the
     * source is still authoritative and proxies never stopped copying: nothing is lost) and retries
     * after the backoff. A proxy set that lost a member also goes back, to verify again.
     */
    private Optional<Outcome> cutoverFromPause() throws InterruptedException {
        pausePublishedAtMillis = System.currentTimeMillis();
        long epoch = publisher.publishMoving(record.record(), MigrationPhase.CUTOVER_PAUSE);
        try {
            publisher.barrier(epoch);
        } catch (BarrierTimeoutException e) {
            retreat("cutover barrier for CUTOVER_PAUSE (epoch " + epoch + ") timed out after "
                    + publisher.barrierTimeout().toMillis() + " ms: " + e.getMessage(), false);
            return Optional.of(Outcome.BLOCKING);
        }
        Optional<String> lost = lostProxies();
        if (lost.isPresent()) {
            retreat("proxies left before the cutover (" + lost.get() + "); verifying again", true);
            return Optional.empty();
        }
        record.enter(Status.REVERSE_DUAL_WRITE, map());
        return Optional.empty();
    }

    private void retreat(String reason, boolean verifyAgain) {
        LOG.warn("migration {}: {}", record.id(), reason);
        long next = System.currentTimeMillis() + (verifyAgain ? 0 : settings.cutoverRetryBackoff().toMillis());
        record.enter(Status.VERIFY, map(Migrations.LAST_ERROR, "CUTOVER_PAUSE on shard " + record.record().target()
                + " after attempt " + record.longDetail(Migrations.CUTOVER_ATTEMPTS, 0) + ": " + reason,
                Migrations.NEXT_CUTOVER_AT_MILLIS, Long.toString(next)));
        if (verifyAgain) {
            verifyAgain(reason);
        }
        // no barrier: proxies that saw CUTOVER_PAUSE and those that did not both route to the source
        long epoch = publisher.publishMoving(record.record(), MigrationPhase.VERIFY);
        record.details(map(Migrations.EPOCH, Long.toString(epoch)));
    }

    private Optional<Outcome> reverse(Optional<Request> request) throws InterruptedException {
        if (!"true".equals(record.checkpoint(Migrations.REVERSE_ACKED))) {
            long epoch = publisher.publishMoving(record.record(), MigrationPhase.REVERSE_DUAL_WRITE);
            // A timeout here keeps waiting: the map already says target, and a proxy that has not
            // acknowledged still holds its writes (it acknowledged the pause), so none reaches the source.
            awaitBarrier(epoch, "REVERSE_DUAL_WRITE");
            // from the publication of the pause (no write is held before proxies see it) to the end of this
            // barrier; a resumed cutover counts from the recorded start of the cutover instead
            long since = pausePublishedAtMillis > 0 ? pausePublishedAtMillis
                    : record.longDetail(Migrations.CUTOVER_STARTED_AT_MILLIS, System.currentTimeMillis());
            long pause = Math.max(0, System.currentTimeMillis() - since);
            String history = Optional.ofNullable(record.detail(Migrations.PAUSE_HISTORY_MILLIS)).filter(h -> !h.isEmpty())
                    .map(h -> h + "," + pause).orElse(Long.toString(pause));
            record.checkpoints(map(Migrations.REVERSE_ACKED, "true"), map(Migrations.LAST_PAUSE_MILLIS, Long.toString(pause),
                    Migrations.PAUSE_HISTORY_MILLIS, history, Migrations.NEXT_CUTOVER_AT_MILLIS, null));
            LOG.info("migration {}: cutover done, writes to {} slots held {} ms", record.id(), record.record().slots().size(), pause);
        }
        if (request.isPresent() && request.get() != Request.COMPLETE) {
            startUndo();
            return Optional.empty();
        }
        if (request.isPresent() || Boolean.parseBoolean(record.detail(Migrations.AUTO_COMPLETE))) {
            move(Status.CLEANUP, map());
            return Optional.empty();
        }
        return Optional.of(Outcome.WAITING);
    }

    private void cleanup() throws InterruptedException {
        publishAndAwait(MigrationPhase.CLEANUP);
        new RowRemover(job, Migrations.CLEANUP_CHECKPOINT, true).run();
        long epoch = publisher.publishSettled(record.record(), record.record().target());
        awaitBarrier(epoch, "the end of the move");
        finish(Status.DONE);
    }

    // ---- backward

    /** Turns an abort or rollback request into ABORTING / ROLLING_BACK (the undo runs next). */
    private void startUndo() throws InterruptedException {
        Status status = record.status();
        if (status == Status.CLEANUP || status.terminal() || status == Status.ABORTING || status == Status.ROLLING_BACK) {
            return;
        }
        boolean rollback = record.request().orElse(Request.ABORT) == Request.ROLLBACK && status == Status.REVERSE_DUAL_WRITE;
        if (status == Status.PENDING) {
            finish(Status.ABORTED);
            return;
        }
        record.enter(rollback ? Status.ROLLING_BACK : Status.ABORTING, map());
    }

    /**
     * Gives the slots back to the source and deletes the target's copies (in ABORT_CLEANUP, which keeps them
     * out of scatter statements until they are gone). If the target owned them
     * (after the cutover), writes are first held with CUTOVER_PAUSE (owner source again), so no
     * proxy writes the target while the next map makes the source the owner; reverse dual writes
     * kept the source exact, so nothing needs copying back.
     */
    private void undo(Status end) throws InterruptedException {
        if ("true".equals(record.checkpoint(Migrations.MOVE_PUBLISHED))) {
            SlotMap map = publisher.view(record.record());
            boolean ours = record.record().slots().stream()
                    .anyMatch(s -> map.moving(s).filter(m -> m.migrationId().equals(record.id())).isPresent());
            boolean targetOwns = record.record().slots().stream()
                    .anyMatch(s -> map.moving(s).filter(m -> m.migrationId().equals(record.id()) && m.phase().targetOwns()).isPresent());
            if (targetOwns) {
                publishAndAwait(MigrationPhase.CUTOVER_PAUSE);
            }
            if (ours) {
                // the move stays in the map while the target's copies are deleted, so that scatter statements
                // keep leaving them out; no copies are made any more once every proxy has this epoch
                publishAndAwait(MigrationPhase.ABORT_CLEANUP);
            }
            new RowRemover(job, Migrations.UNDO_CHECKPOINT, false).run();
            if (ours) {
                publisher.publishSettled(record.record(), record.record().source());
            }
            awaitBarrier(publisher.current().epoch(), "the slots back on " + record.record().source());
        }
        finish(end);
    }

    /**
     * A split key's rows live on the owners of its sub-key slots, which one slot move cannot carry.
     * Keys with a sub-key in the moving slots are merged back home first (the list is recorded before,
     * so a new worker knows them) and split again with the same k when the migration ends.
     */
    private void mergeSplitKeysInTheWay() throws InterruptedException {
        if (!job.scope.isEmpty()) {
            return; // a table-scoped migration moves tables that were single: none of their keys can be split
        }
        SlotMap map = publisher.current();
        java.util.Set<Integer> slots = new java.util.HashSet<>(record.record().slots());
        List<SplitKey> inTheWay = map.splitKeys().stream()
                .filter(k -> k.slots(map.slotCount()).stream().anyMatch(slots::contains)).toList();
        if (inTheWay.isEmpty()) {
            return;
        }
        if (record.detail(Migrations.SPLIT_KEYS_MERGED) == null) {
            record.details(map(Migrations.SPLIT_KEYS_MERGED, SplitKeyList.encode(inTheWay)));
        }
        HotKeyOperator operator = hotKeyOperator();
        for (SplitKey key : inTheWay) {
            job.fence.check();
            operator.merge(key.table(), key.key());
        }
    }

    /** Splits again the keys {@link #mergeSplitKeysInTheWay()} merged; a failure is recorded, not fatal to the move. */
    private void splitAgain() throws InterruptedException {
        String merged = record.detail(Migrations.SPLIT_KEYS_MERGED);
        if (merged == null || merged.isEmpty()) {
            return;
        }
        HotKeyOperator operator = hotKeyOperator();
        List<String> failed = new java.util.ArrayList<>();
        for (SplitKey key : SplitKeyList.decode(merged)) {
            if (publisher.current().splitKey(key.table(), key.key()).filter(k -> k.state() == SplitKey.State.SPLIT).isPresent()) {
                continue;
            }
            try {
                operator.split(key.table(), key.key(), key.k());
            } catch (HotKeyOperator.HotKeyException e) {
                LOG.warn("migration {}: splitting key {} of {} again failed: {}", record.id(), key.key(), key.table(), e.getMessage());
                failed.add(key.table() + " key " + key.key() + ": " + e.getMessage());
            }
        }
        record.details(map(Migrations.SPLIT_KEYS_MERGED, null, Migrations.RESPLIT_ERRORS, failed.isEmpty() ? null : String.join("; ", failed)));
    }

    private HotKeyOperator hotKeyOperator() {
        HotKeyOperator.Settings d = HotKeyOperator.Settings.defaults();
        return new HotKeyOperator(store, new HotKeyOperator.Settings(settings.barrierTimeout(), settings.connectTimeout(),
                settings.lockWaitTimeout(), d.chunkRows(), d.leadershipTimeout()), line -> LOG.info("migration {}: {}", record.id(), line));
    }

    private void finish(Status end) throws InterruptedException {
        if (end != Status.FAILED) {
            splitAgain();
        }
        record.enter(end, map(Migrations.ETA_SECONDS, null));
        LOG.info("migration {}: {}", record.id(), end);
    }

    // ---- proxies

    private String proxySet() {
        return store.liveProxies().stream().map(MigrationRunner::proxyId).sorted().collect(Collectors.joining(","));
    }

    private static String proxyId(ProxyInfo p) {
        return p.id() + "@" + p.startedAtMillis();
    }

    /** Members of the verify pass's proxy set that are gone (or came back as another process). */
    private Optional<String> lostProxies() {
        String then = record.checkpoint(Migrations.VERIFY_PROXIES);
        if (then == null || then.isEmpty()) {
            return Optional.empty();
        }
        long since = then.contains(";") ? Long.parseLong(then.substring(0, then.indexOf(';'))) : Long.MAX_VALUE;
        String members = then.contains(";") ? then.substring(then.indexOf(';') + 1) : then;
        Set<String> before = members.isEmpty() ? Set.of() : Set.of(members.split(","));
        Set<String> lost = new TreeSet<>();
        List<ProxyInfo> live = store.liveProxies();
        Set<String> now = live.stream().map(MigrationRunner::proxyId).collect(Collectors.toSet());
        for (String member : before) {
            if (!now.contains(member)) {
                lost.add(member);
            }
        }
        // a proxy that started before the pass but was not registered at its start was cut off then (its
        // session had expired) and came back: while cut off it may have written without copies
        for (ProxyInfo p : live) {
            if (!before.contains(proxyId(p)) && p.startedAtMillis() < since) {
                lost.add(proxyId(p) + " (re-registered)");
            }
        }
        return lost.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", lost));
    }

    /** Ends {@link #advance} without an error (the record already says why). */
    static final class StopAdvancing extends RuntimeException {
        StopAdvancing() {
            super(null, null, false, false);
        }
    }
}
