/**
 * The proxy core behind the protocol-neutral seam: {@link io.shardgate.proxy.core.ProxyCore} (a
 * {@link io.shardgate.proxy.session.SessionFactory}) and its sessions.
 *
 * <h2>What a client can rely on</h2>
 * <ul>
 *   <li><b>One logical database</b>, named by the shards' JDBC URLs ({@code …/shardgate} → {@code shardgate});
 *       connecting with or USE-ing another name gives MySQL's 1049 "Unknown database". {@code SELECT DATABASE()}
 *       answers it.</li>
 *   <li><b>Transactions.</b> BEGIN / START TRANSACTION or {@code autocommit=0} opens one; each shard gets a
 *       connection pinned on first use and kept until COMMIT/ROLLBACK. A transaction on one shard is a plain
 *       backend transaction. On several shards COMMIT goes to each pinned shard in turn: the first failure
 *       rolls back the shards not yet committed and the error names the shards that committed. <b>A
 *       multi-shard commit is therefore not atomic</b> until a two-phase commit exists. If a pinned connection
 *       breaks, or a shard reports a deadlock (1213, which already rolled its part back), the whole transaction
 *       is rolled back and the error says so. DDL inside a transaction commits that shard's part implicitly, as
 *       in MySQL, but only on the shards it runs on.</li>
 *   <li><b>Session settings</b> ({@code SET sql_mode=…}, {@code SET SESSION TRANSACTION …}) are checked on a
 *       backend, remembered and replayed on every backend connection the session uses; a connection carrying
 *       other settings is reset (COM_RESET_CONNECTION) first, and connections of sessions without settings are
 *       used as they are.</li>
 *   <li><b>Session state on a server</b> (temporary tables, named locks, user variables) pins the backend
 *       connection it lives on to the session until the session ends, which then resets it before the pool gets it
 *       back; SQL PREPARE, FOUND_ROWS(), ROW_COUNT() and LAST_INSERT_ID() are the proxy's own. See
 *       {@link io.shardgate.proxy.core.ServerStateRules} for the rules per kind and {@code limits.max-pinned-per-shard}
 *       for the limit. LOCK TABLES is not tracked and only holds inside a transaction.</li>
 *   <li><b>Character sets.</b> Backends always talk utf8mb4 and bytes pass through; SET NAMES utf8mb4, utf8,
 *       utf8mb3 or binary (and their collations) are accepted as no-ops, anything else is refused (UNSUPPORTED).</li>
 *   <li><b>Errors.</b> A backend's error reaches the client unchanged (errno, SQLSTATE, text). A shard that is
 *       down or unreachable gives SHARD_UNAVAILABLE within the borrow timeout (default 3 s), naming the shard,
 *       its address, the time waited, the cause and the pool's counts; other shards keep working, and the
 *       pool reconnects by itself when the shard is back (HikariCP retries with a back-off capped at 5 s).
 *       A multi-shard autocommit write or a DDL that some shards applied and others did not says which.</li>
 *   <li><b>Local answers.</b> {@code @@version_comment}, {@code @@version}, {@code VERSION()}, {@code DATABASE()},
 *       {@code CONNECTION_ID()} (the core's own session counter), {@code LAST_INSERT_ID()} (the session's last
 *       generated id), {@code FOUND_ROWS()}, {@code ROW_COUNT()} and literals are answered without a backend; other table-less statements run on the
 *       default shard with the session's settings.</li>
 *   <li><b>SHOW WARNINGS</b> sees the previous statement's warnings only while its connection is pinned to a
 *       transaction; otherwise the answer is empty. Warning counts in OK packets are reported as 0.</li>
 * </ul>
 */
package io.shardgate.proxy.core;
