/**
 * The migration worker: moves slots between shards online (DESIGN.md, "Moving slots online").
 *
 * <h2>Public API</h2>
 * {@link io.shardgate.migrator.MigrationWorker#start} with {@link io.shardgate.migrator.WorkerSettings};
 * {@link io.shardgate.migrator.Migrations} is the record contract shared with the CLI.
 *
 * <h2>Leadership and fencing</h2>
 * Workers join the {@code migrator} leader election of the cluster store; only the leader acts.
 * A {@code Fence} is checked before every chunk and every store write; with ZooKeeper the latch
 * drops leadership on SUSPENDED, so a partitioned worker stops within one chunk (at most the
 * InnoDB lock wait timeout of its session). Records are written by compare-and-set, and the
 * slot map too, so a paused ex-leader's late write fails instead of overwriting.
 *
 * <h2>Phase changes</h2>
 * Every phase change writes the record first (CAS, re-applied on conflict so the CLI's
 * {@code request} survives), then the slot map (CAS, epoch + 1, re-read and retried on conflict),
 * then waits for the epoch barrier. A resumed worker re-publishes the map of the record's phase if
 * the map lags (publishing is idempotent) and waits for the barrier again, then continues from the
 * checkpoints. Runs in {@link io.shardgate.migrator.Migrations#RUN_ORDER}; a migration holds the
 * pipeline until its cutover is acknowledged; one waiting in REVERSE_DUAL_WRITE or FAILED does not.
 *
 * <h2>Decisions and holes closed</h2>
 * <ul>
 *   <li><b>Preflight</b> refuses (FAILED, map untouched) slots not owned by the source or moving in
 *       another migration, split keys with a sub-key in the moving slots, and sharded tables without
 *       a primary key or shard-key column; it creates missing target tables from
 *       {@code SHOW CREATE TABLE}. The checkpoint {@code movePublished} is written before DUAL_WRITE is
 *       published; an abort deletes target rows only when it is set, so aborting a refused move never
 *       deletes rows of slots the target really owns.</li>
 *   <li><b>Sessions</b> run READ COMMITTED (no gap locks) with a 3 s lock wait timeout: the worker
 *       gives way to application writes, and a lock cycle across two shards (which neither server
 *       can detect) is broken by the worker's timeout; the chunk is rolled back and retried
 *       (deadlock 1213, lock wait timeout 1205, SQLSTATE 40xxx, PostgreSQL's lock_timeout 55P03; up to 6
 *       attempts).</li>
 *   <li><b>PostgreSQL shards</b> get the same protocol in their SQL ({@link io.shardgate.migrator.ShardSql}): double
 *       quotes, {@code FOR SHARE}, {@code INSERT … ON CONFLICT (key) DO UPDATE}, catalog queries on the current
 *       schema, {@code lock_timeout}, exact numbers bound as untyped text so key comparisons keep their index; and
 *       the slot function the proxies' shadow filters call is installed on source and target first.</li>
 *   <li><b>The DUAL_WRITE barrier</b> is where the move waits for client transactions that wrote rows on the source
 *       before it (each proxy acknowledges that epoch only once they have ended): their writes made no copies, and the
 *       backfill's and the verify's unlocked chunk reads cannot see a row they inserted, which would otherwise reach
 *       the source only after the verify. While one is open the barrier times out, {@code lastError} says
 *       {@code barrier for DUAL_WRITE}, and the worker retries it; nothing is copied meanwhile.</li>
 *   <li><b>Backfill</b> reads a chunk under {@code LOCK IN SHARE MODE}, filters rows by slot in Java
 *       ({@code SlotFunction}/{@code ShardKeys}, exactly the proxy's routing), upserts with
 *       {@code INSERT … ON DUPLICATE KEY UPDATE}, commits the target, then the source. Key ranges are
 *       written {@code a > ? OR (a = ? AND b > ?)} and exact numbers bound as decimals (a BIGINT key
 *       compared with a string would be compared as a double). The throttle counts rows written and
 *       sleeps between chunks, never inside a transaction. Checkpoints about once a second and at the
 *       end of each table; re-copying after a resume is idempotent.</li>
 *   <li><b>Verify</b> compares row texts over the same key range on both shards (target rows of the
 *       moving slots included, so extra rows are found). An extra target row is locked
 *       {@code FOR UPDATE} on the target before the source is asked again under a share lock: a
 *       proxy that inserted it on the source meanwhile is either seen (the row is upserted) or its
 *       copy waits for the target lock (the delete cannot remove a fresh copy). Deletes run before
 *       upserts (a key differing only in case under a case-insensitive collation).</li>
 *   <li><b>Proxy set</b>: recorded at DUAL_WRITE ({@code proxiesAtDualWrite}) and at the start of each
 *       verify pass as id@startedAtMillis. If a member is gone (or came back as another process)
 *       before the cutover, or after the pause barrier, the worker verifies again: a proxy that died
 *       between its source commit and its target copy left a hole only a verify after its death finds.</li>
 *   <li><b>Cutover</b>: CUTOVER_PAUSE, barrier, proxy-set check, REVERSE_DUAL_WRITE, barrier. The pause
 *       is measured from the publication of CUTOVER_PAUSE (a resumed cutover: from the recorded start of the cutover)
 *       to the end of the second barrier: {@code lastPauseMillis}, {@code pauseHistoryMillis}.
 *       A pause-barrier timeout publishes VERIFY again without a barrier (proxies on either epoch
 *       route to the source and keep copying; nothing is lost), records {@code lastError} and retries
 *       after the backoff. A timeout of the REVERSE barrier keeps waiting and retrying: the map
 *       already names the target, and every proxy that has not acknowledged it still holds writes
 *       (it acknowledged the pause), so none reaches the source; going back would need a second pause.</li>
 *   <li><b>Abort / rollback</b>: if the target owns the slots, CUTOVER_PAUSE (owner source) is
 *       published and awaited first, so no proxy writes the target while the next map gives the
 *       source the slots; then the slots are settled on the source, barrier, and the target's rows of
 *       the moving slots are deleted in chunks. Abort in REVERSE_DUAL_WRITE follows the same path
 *       (ends ABORTED); reverse dual writes kept the source exact. Abort is not honoured in CLEANUP.</li>
 *   <li><b>Cleanup</b> deletes the source's rows of the moving slots in chunks after the CLEANUP
 *       barrier (no proxy copies to the source any more), then settles the slots on the target.</li>
 * </ul>
 *
 * <h2>Hot keys</h2>
 * {@link io.shardgate.migrator.HotKeyOperator} splits and merges one key (its class comment has the
 * protocol: hold the key with SPLITTING/MERGING and a barrier, move its rows, publish, release). A
 * migration whose slots include a sub-key slot of a split key merges it in PENDING (the list is in
 * {@code splitKeysMerged} first) and splits it again with the same k when it ends; a failed re-split
 * is recorded in {@code resplitErrors}. {@link io.shardgate.migrator.HotKeyPolicy} is the automatic
 * policy the worker runs between migrations when configured.
 *
 * <h2>Limits</h2>
 * Primary keys must be unique across shards (an upsert on the target overwrites a row with the same
 * key). Verification compares row text, not checksums. Declared tables absent on the source are
 * skipped. MySQL/MariaDB only (the PostgreSQL dialect has no worker yet).
 */
package io.shardgate.migrator;
