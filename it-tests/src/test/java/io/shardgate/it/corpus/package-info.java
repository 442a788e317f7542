/**
 * The compatibility corpus: the same statements through the proxy (two shards) and on a single reference server, run by
 * real drivers, their transcripts compared byte for byte.
 *
 * <h2>Cases are data</h2>
 * {@code it-tests/src/test/resources/corpus/mysql/*.txt} and {@code corpus/postgres/*.txt} hold the cases (grammar in
 * {@link io.shardgate.it.corpus.CorpusFile}); {@code cluster.yaml} declares the tables (sharded ones, so cases route:
 * point reads, scatters with ORDER BY/LIMIT/aggregates, multi-row INSERTs split per shard) and {@code schema.sql}
 * creates and fills them through the proxy and on the reference server before any case runs. Each case runs on fresh
 * sessions ({@code A:} and {@code B:} for two), and cases share the tables, so a case cleans up what it wrote
 * ({@code setup:} lines reset, the last lines delete).
 *
 * <h2>Drivers</h2>
 * MySQL: Connector/J with client-side and with server-side prepared statements ({@code connectorj},
 * {@code connectorj-ps}), the {@code mariadb} command-line client, PyMySQL, mysql2, Hibernate ORM (IDENTITY and
 * SEQUENCE ids, batch inserts, HQL bulk DML, schema validation). PostgreSQL: pgJDBC (its defaults, and
 * {@code prepareThreshold=-1}: every statement named and described before binding, binary results), {@code psql},
 * psycopg2, node {@code pg}. Each driver runs all its cases in
 * one process per target (the JDBC drivers and Hibernate in the test's JVM); the command-line clients run once per case,
 * which costs milliseconds. Every driver prints the same kind of transcript: per statement the columns with the types
 * the driver reports, each value as the driver typed it (or its bytes in hex), affected rows, last insert id / generated
 * keys, warnings, and errors with code, SQLSTATE and message.
 *
 * <h2>Verdicts</h2>
 * One JUnit test per (driver, case):
 * <ul>
 *   <li>a plain case must give equal transcripts, error messages included (the proxy passes a shard's errors through);
 *   <li>{@code refused: text}: the proxy refuses by design (e.g. a join across shards); its transcript must show an
 *       error containing the text; the server's answer is not compared;
 *   <li>{@code pending: issue14-N why} (or {@code gap-name why} for a difference no issue names yet): the proxy is known
 *       to differ today, and the test <em>requires</em> the difference. When a fix makes the case pass, the test fails
 *       with "now passes: remove 'pending: …'", so every fix lands with its cases turned on, and they stay fixed.
 * </ul>
 * A case marked {@code runs-last} runs, for the drivers it is pending for, after every other case of every driver: it
 * kills the proxy session, and the backend connection that session held can go back to the pool broken, failing
 * whichever unrelated case borrows it next.
 *
 * <p>What is not compared by default: {@code column-detail:} and {@code ok-detail:} lines (column display lengths, flags,
 * decimals, precision and character set; the OK packet's info text and status flags); {@code -Dcorpus.metadata=full}
 * compares them too. What still differs there: mysql2's info text and SERVER_SESSION_STATE_CHANGED flag (the proxy's
 * handshake offers no CLIENT_SESSION_TRACK, so mysql2 reads the length-encoded info as the packet's rest, length byte
 * included, and the reference server tracks state for it), and expression metadata of server-side prepared statements'
 * executions (the proxy runs them on a shard with the values written in). Generated ids are compared up to renaming in
 * cases marked {@code ids: renumber}.
 *
 * <p>Transcripts land in {@code it-tests/target/corpus/<protocol>/<driver>/<case>.{proxy,reference}.txt}.
 */
package io.shardgate.it.corpus;
