/**
 * Throwaway local database servers, run as plain child processes of the JVM (there is no Docker): MariaDB shards for
 * {@code bin/shardgate demo} and real MariaDB / PostgreSQL servers for the integration tests, which also kill and
 * restart them to test shard failure.
 *
 * <ul>
 *   <li>{@link io.shardgate.local.LocalMariaDb} and {@link io.shardgate.local.LocalPostgres} start a server on
 *       127.0.0.1 with its files under one base directory ({@code start(baseDir, port)}, or {@code temporary()} for a
 *       temp directory deleted on {@code close()}), initialise the data directory on first start only, and wait
 *       until the server answers on its port. Both have {@code stop()} (graceful), {@code kill()} (SIGKILL, a
 *       crash), {@code restart()} (same port, same data), {@code execute(sql)} through the command-line client and
 *       {@code jdbcUrl(db)}. Tuned for tests: small buffers, no durability guarantees.</li>
 *   <li>{@link io.shardgate.local.FreePorts} picks free ports; {@link io.shardgate.local.CommandRunner} runs a helper
 *       command with a timeout.</li>
 * </ul>
 *
 * <p><b>Processes never outlive the JVM.</b> A shutdown hook stops the servers still running, and each server is
 * started through {@code setpriv --pdeathsig KILL} (util-linux) from one long-lived launcher thread, so the kernel
 * kills it even if the JVM itself is killed with SIGKILL.
 *
 * <p><b>The root / postgres-user rule.</b> MariaDB runs as the current user; as root it gets {@code --user=root}
 * (and its root account accepts an empty password over TCP, via
 * {@code mariadb-install-db --auth-root-authentication-method=normal}). PostgreSQL refuses to run as root: when the
 * JVM is root, {@code initdb} and {@code postgres} run as the OS user {@code postgres}, the base directory is chowned
 * to that user, and every parent of the base directory must be traversable by it (use a directory under /tmp, not
 * under /root). Client commands ({@code mariadb}, {@code psql}) run as the current user over TCP.
 *
 * <p>Binaries are looked up on PATH, in /usr/sbin, /usr/bin and /usr/lib/postgresql/N/bin (newest N first); a
 * missing one is an error naming the package to install ({@code mariadb-server}, {@code postgresql}).
 * The local MariaDB and PostgreSQL system services (ports 3306, 5432) are never used or touched.
 */
package io.shardgate.local;
