/**
 * The statement router: a pure function from (statement, bound parameters, {@link io.shardgate.router.RoutingSnapshot})
 * to a {@link io.shardgate.router.plan.RoutePlan}. No I/O, no Netty, no JDBC.
 *
 * <h2>Use</h2>
 * {@link io.shardgate.router.Router#analyse(String, io.shardgate.cluster.Dialect)} parses a statement once
 * (keep the {@link io.shardgate.router.AnalysedStatement} with the prepared statement); the analysis for a
 * cluster definition is cached inside it. {@link io.shardgate.router.Router#route(AnalysedStatement, java.util.List,
 * RoutingSnapshot)} then only resolves parameters, slots and owners (a point SELECT takes well under a microsecond).
 *
 * <h2>Parameters</h2>
 * The bound parameter list is <b>0-based</b>: index 0 is MySQL's first {@code ?} or PostgreSQL's {@code $1}.
 * Every SQL text in a plan uses JDBC {@code ?} placeholders (PostgreSQL {@code $n} are converted) and carries,
 * per {@code ?}, the index of the client's parameter to bind ({@link io.shardgate.router.plan.ShardStatement#parameters()}).
 * Client values are never inlined (the one exception: an id the proxy generates from a cluster sequence is
 * written into the row as a decimal literal): a multi-row INSERT split per shard is {@code prefix + that shard's rows + suffix},
 * each row keeping its own placeholders, so {@code ON DUPLICATE KEY UPDATE b = ?} and {@code RETURNING} survive.
 * A statement that runs unchanged is sent as the client wrote it (so DDL keeps MySQL version comments such as
 * {@code ENGINE = innodb} written inside them).
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>Shard key restrictions come from {@code key = v}, {@code v = key}, {@code key IN (…)} with literals or
 *       parameters; AND keeps the narrower restriction, OR unions two restricted sides, anything else
 *       (OR with another column, {@code BETWEEN}, {@code <}, functions) scatters: slots are placed by hash, so a
 *       range of keys is spread over every shard. Literals are normalised as {@link io.shardgate.slot.ShardKeys}
 *       says ({@code '42'} routes like {@code 42}); a key literal that is not a valid value ({@code 'abc'} for an
 *       integer key) is rejected (BAD_SHARD_KEY_VALUE) instead of guessing MySQL's coercion.</li>
 *   <li>Scatter reads go to the shards that own slots and merge: concatenation, ORDER BY (k-way merge, NULLs
 *       lowest in MySQL and highest in PostgreSQL unless NULLS FIRST/LAST), LIMIT/OFFSET (per shard
 *       {@code LIMIT offset+limit}, cut after merging), COUNT/SUM/MIN/MAX, AVG (per-shard SUM and COUNT appended
 *       as hidden columns), GROUP BY (re-aggregated), DISTINCT. ORDER BY / GROUP BY expressions not selected are
 *       appended as hidden columns the executor drops. Refused (UNSUPPORTED_SCATTER) because a per-shard answer
 *       would be wrong: COUNT(DISTINCT), HAVING, aggregates inside expressions, other aggregate functions,
 *       window functions, ungrouped columns next to aggregates, DISTINCT with hidden columns, UNION, FETCH.
 *       When GROUP BY contains the shard key every group lives on one shard, so all of these are allowed and the
 *       merge only orders and limits. Whether a statement scatters is decided per execution: the same
 *       {@code COUNT(DISTINCT x) … WHERE key IN (?, ?)} runs when both keys share a shard and is refused otherwise.</li>
 *   <li>Joins: all sharded tables must be connected by equalities of their shard keys (ON, WHERE or USING) with
 *       the same key type; broadcast tables join anywhere; a sharded table with a single (or undeclared) table is
 *       refused, as is an outer join that keeps a broadcast table's unmatched rows when it scatters (each shard
 *       would return them). Single tables on one shard, with broadcast tables, go to that shard; broadcast-only
 *       reads go to the default shard.</li>
 *   <li>Subqueries are allowed over broadcast tables, over single tables of the same shard, and over sharded
 *       tables tied to the outer query's shard key (correlated {@code inner.key = outer.key}, or the same single
 *       key value). Derived tables and WITH queries over sharded tables are refused (UNSUPPORTED_SUBQUERY).</li>
 *   <li>INSERT: the key column must be listed, unless it is the table's cluster-sequence column; each row is placed
 *       by its key; rows on one shard pass through unchanged. A table with a cluster sequence
 *       ({@link io.shardgate.cluster.TableDefinition#sequence()}) gets the column filled from the
 *       {@link io.shardgate.router.IdSource} before placement where a row omits it or gives DEFAULT, NULL or 0
 *       (MySQL; the source says whether NO_AUTO_VALUE_ON_ZERO is off), nextval(…) (PostgreSQL), one statement's ids
 *       consecutive in row order; explicit ids are reported to the source (it moves past them). On MySQL an
 *       expression for the column is refused (it could come out NULL or 0 and let a shard's counter generate), and a
 *       bare nextval/currval/setval of such a table's serial sequence is refused on PostgreSQL. CREATE TABLE of a
 *       sharded table with GENERATED ALWAYS AS IDENTITY is refused (it would refuse the filled ids). INSERT … SELECT only into single/broadcast tables from tables known to be on
 *       the written shard(s). Upserts and UPDATEs that set the shard key are refused (SHARD_KEY_UPDATE). UPDATE and
 *       DELETE over several tables, or with ORDER BY/LIMIT over several shards, are refused.</li>
 *   <li>DDL on sharded and broadcast tables goes to every shard of the cluster, spares included (they must have the
 *       schema before slots move to them); on single tables to their shard; undeclared tables follow
 *       {@link io.shardgate.cluster.UnknownTablePolicy}.</li>
 *   <li>Session statements (BEGIN, COMMIT, SET, SET NAMES, autocommit, USE, savepoints, SHOW WARNINGS) become
 *       {@link io.shardgate.router.plan.RoutePlan.Session}; SET GLOBAL is refused. Table-less SELECTs and SHOW go to
 *       the default shard as {@link io.shardgate.router.plan.RoutePlan.AnyShard}, with their columns classified
 *       (system variable, session function, constant) so the front end can answer them itself; SHOW/DESCRIBE of a
 *       single table go to its shard.</li>
 *   <li>Moving slots: reads go to the slot map's owner. A write to a slot in DUAL_WRITE, BACKFILL or VERIFY runs on
 *       the source and copies the keys' current image to the target; in REVERSE_DUAL_WRITE the other way round;
 *       CLEANUP writes go to the target only. Keys come from the statement, or, for writes without keys, from a
 *       {@code SELECT key … FOR UPDATE} with the same predicate, run first and filtered to the moving slots. A write
 *       touching a slot in CUTOVER_PAUSE (a scatter write touches all) is {@link io.shardgate.router.plan.RoutePlan.Held}.</li>
 *   <li>Split hot keys: a statement by key alone fans out to the owners of {@code slot(key, i)}, i in 0..k-1.
 *       In append mode a row goes to sub-key {@code i = SlotFunction.slot(splitByText, k)} (CRC32C of the
 *       split-by value's canonical text mod k; integer text if the value is an integer, else the string), and a
 *       statement naming key and split-by value hits that one sub-key. Counter mode keeps one sub-row per distinct
 *       shard of the sub-keys: reads of one key sum the counter columns and take the others from home; an UPDATE
 *       that only increments counters ({@code c = c + ?}) goes to one sub-row, chosen by the caller's spreading hint
 *       (0 = home); any other UPDATE, a DELETE or an INSERT runs at home and, with increments dropped and counters
 *       zeroed (INSERT IGNORE of a zeroed row), on the other sub-rows, reporting home's affected rows
 *       ({@link io.shardgate.router.plan.MergePlan.AffectedRowsOf}); see {@code CounterWrites}. Writes that could
 *       not stay exact (conditions on counters, several keys, scatter writes) are HOT_KEY_WRITE_UNSUPPORTED; scatter
 *       reads of a counter table with split keys and joins on a split key are refused. While a split key is
 *       SPLITTING or MERGING, every statement naming it, and every scatter over its table, is
 *       {@link io.shardgate.router.plan.RoutePlan.Held}.</li>
 * </ul>
 *
 * <h2>Parser notes</h2>
 * JSqlParser 5.3 misplaces AND/OR after an IN list ({@code a IN (1) AND b = 2}); {@code ConditionRepair} rebuilds
 * the condition with SQL precedence before any key analysis. MySQL's {@code LOCK IN SHARE MODE} is removed for
 * parsing and kept in the SQL sent. Session statements and SHOW are recognised lexically before parsing.
 * Identifiers are compared case-insensitively and without quotes.
 */
package io.shardgate.router;
