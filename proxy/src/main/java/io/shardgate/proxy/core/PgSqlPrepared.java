package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendErrors;
import io.shardgate.proxy.exec.PgTypedValue;
import io.shardgate.proxy.exec.ShardExecutor;
import io.shardgate.proxy.session.SqlPreparedStatement;
import io.shardgate.proxy.session.StatementResult;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * PostgreSQL's SQL {@code PREPARE} / {@code EXECUTE} for one session, kept by the proxy rather than pinned on a server.
 *
 * <p>Why kept, not pinned: each EXECUTE must run where its own argument values send it (a shard key may be a
 * {@code $n}), so a statement prepared on one backend connection would have to be prepared on every shard's, and each
 * EXECUTE routed by values the proxy reads anyway. Instead the proxy keeps the text (the front end keeps the name, in
 * the namespace it shares with the extended protocol's named statements) and the parameter types, and an EXECUTE runs
 * the text as an ordinary statement with the arguments bound to its {@code $n} <em>with those types</em>, routed by
 * their values like any bound statement. No backend connection keeps anything afterwards.
 *
 * <p>What a server decides is asked of a shard, so that its answers and errors are the server's own:
 * <ul>
 *   <li>At PREPARE the statement is prepared (under a name of the proxy's) on the shard it would be described on, and
 *       its parameter types read back from {@code pg_prepared_statements} (declared, else inferred) and its result
 *       columns described, then deallocated: an unknown column, a syntax error or an undeterminable parameter type
 *       fails there as on one server. A statement the proxy would refuse whatever the values is refused then.</li>
 *   <li>At EXECUTE the arguments are coerced to the parameter types. NULL, a string literal for a text parameter, and
 *       an integer (literal or quoted) in range for an integer parameter are coerced the same by binding their text
 *       with the type, so they are bound directly, at no extra round trip (see {@link #literal}). Any other argument
 *       (an expression, a cast, a date, a numeric literal for an integer parameter, which a server rounds) is evaluated
 *       on the default shard as the server evaluates EXECUTE arguments (a PREPARE of {@code SELECT $1, …} with the same
 *       types, EXECUTE with the client's arguments, DEALLOCATE), and the values read back are bound; their errors are
 *       the server's.</li>
 * </ul>
 *
 * <p>A wrong number of arguments gets the server's 42601 with its DETAIL. What differs from one server: errors carry no
 * Position (the front end sends none), and a NULL argument for a shard key is refused (as a bound NULL key is).
 * {@code pg_prepared_statements} is refused by the router; DISCARD ALL and DEALLOCATE drop the names the front end keeps.
 *
 * <p>Values travel as their type's text form, which reads back as the same value for every built-in type except floats
 * printed with {@code extra_float_digits} below 1, which a session rarely sets.
 */
final class PgSqlPrepared {
    /** Prefixes of the proxy's statement names on a backend connection; each is deallocated by the call that made it. */
    private static final String CHECK = "shardgate_sql_prepare_";
    private static final String ARGUMENTS = "shardgate_sql_arguments_";
    private static final String TYPES = "SELECT format_type(t.oid, NULL), CASE WHEN n.nspname = 'pg_catalog' THEN t.typname"
            + " ELSE quote_ident(n.nspname) || '.' || quote_ident(t.typname) END"
            + " FROM pg_prepared_statements p, unnest(p.parameter_types::oid[]) WITH ORDINALITY AS a(oid, i)"
            + " JOIN pg_type t ON t.oid = a.oid JOIN pg_namespace n ON n.oid = t.typnamespace"
            + " WHERE p.name = '%s' ORDER BY a.i";
    /** Numbers the proxy's statement names, so that one a failure left on a pooled connection is never met again. */
    private static final java.util.concurrent.atomic.AtomicLong NAMES = new java.util.concurrent.atomic.AtomicLong();
    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]+");

    private final SessionBackends backends;
    private final String logicalDatabase;

    PgSqlPrepared(SessionBackends backends, String logicalDatabase) {
        this.backends = backends;
        this.logicalDatabase = logicalDatabase;
    }

    /** Prepares {@code sql} on {@code shard} as a server would at PREPARE, reading its parameter types. */
    SqlPreparedStatement prepare(String sql, List<String> declaredTypes, String shard) {
        String name = CHECK + NAMES.incrementAndGet();
        String prepare = "PREPARE " + name + (declaredTypes.isEmpty() ? "" : " (" + String.join(", ", declaredTypes) + ")")
                + " AS " + sql;
        return onShard(shard, lease -> prepared(lease, name, prepare, () -> {
            StatementResult types = ShardExecutor.run(lease.connection(), TYPES.formatted(name), List.of(), logicalDatabase);
            List<String> sqlTypes = new ArrayList<>();
            List<String> driverTypes = new ArrayList<>();
            for (byte[][] row : ((StatementResult.Rows) types).rows()) {
                sqlTypes.add(new String(row[0], StandardCharsets.UTF_8));
                driverTypes.add(new String(row[1], StandardCharsets.UTF_8));
            }
            // a Describe of EXECUTE answers the prepared statement's columns without running anything
            String nulls = String.join(", ", java.util.Collections.nCopies(sqlTypes.size(), "NULL"));
            List<io.shardgate.proxy.session.ColumnInfo> columns = ShardExecutor.describe(lease.connection(),
                    "EXECUTE " + name + (nulls.isEmpty() ? "" : " (" + nulls + ")"), logicalDatabase);
            // the columns of a Describe of EXECUTE: no table OIDs, as a shard's other than the catalog shard's would mislead
            return new SqlPreparedStatement(sql, sqlTypes, driverTypes, io.shardgate.proxy.session.ColumnInfo.withoutPgTables(columns));
        }));
    }

    /**
     * The values of {@code arguments} for the parameters of {@code statement}, coerced as a server coerces EXECUTE's
     * arguments; expressions are evaluated on {@code shard}.
     */
    List<Object> arguments(String name, SqlPreparedStatement statement, List<String> arguments, String shard) {
        if (arguments.size() != statement.types().size()) {
            throw wrongNumber(name, statement.types().size(), arguments.size());
        }
        List<Object> values = new ArrayList<>(arguments.size());
        for (int i = 0; i < arguments.size(); i++) {
            Optional<Object> literal = literal(arguments.get(i), statement.types().get(i), statement.driverTypes().get(i));
            if (literal.isEmpty()) {
                return evaluated(statement, arguments, shard);
            }
            values.add(literal.get());
        }
        return values;
    }

    /**
     * An argument a server would coerce exactly as binding its text with the parameter's type does, as that value;
     * empty for any other argument. The literals taken are those whose value, and whose errors, cannot differ: a string
     * for a text parameter, and an integer (or a string holding one) in range for an integer parameter. Any other
     * string is left to a shard, whose input function answers (routing would refuse {@code 'abc'} for an integer key
     * before the server's 22P02).
     */
    static Optional<Object> literal(String argument, String type, String driverType) {
        String a = argument.strip();
        if (a.equalsIgnoreCase("NULL")) {
            return Optional.of(new PgTypedValue.Null(driverType));
        }
        String kind = type.toLowerCase(Locale.ROOT);
        if (a.length() >= 2 && a.charAt(0) == '\'' && a.charAt(a.length() - 1) == '\'' && a.indexOf('\\') < 0) {
            // an untyped string literal: the server reads it with the type's input function, as it reads a bound text
            String body = a.substring(1, a.length() - 1);
            if (body.replace("''", "").indexOf('\'') >= 0) {
                return Optional.empty(); // 'a' 'b' or the like: more than one literal
            }
            String value = body.replace("''", "'");
            return switch (kind) {
                case "text", "character varying", "character" -> Optional.of(new PgTypedValue(driverType, value));
                case "smallint", "integer", "bigint" -> integer(value.strip(), kind, driverType);
                default -> Optional.empty();
            };
        }
        return switch (kind) {
            case "smallint", "integer", "bigint", "numeric" -> integer(a, kind, driverType);
            default -> Optional.empty(); // text, boolean, …: an integer is coerced (or refused) by casts, not read as text
        };
    }

    /** {@code text} as the integer parameter's value when it is decimal digits in the type's range; else empty. */
    private static Optional<Object> integer(String text, String kind, String driverType) {
        if (!INTEGER.matcher(text).matches()) {
            return Optional.empty();
        }
        BigInteger value = new BigInteger(text);
        boolean fits = switch (kind) {
            case "smallint" -> value.bitLength() < 16;
            case "integer" -> value.bitLength() < 32;
            case "bigint" -> value.bitLength() < 64;
            default -> true; // numeric
        };
        // out of range: a server's cast and its input function fail with different messages, so a shard answers
        return fits ? Optional.of(new PgTypedValue(driverType, value.toString())) : Optional.empty();
    }

    /** All arguments evaluated on {@code shard}, as EXECUTE evaluates them, read back as text of the parameter types. */
    private List<Object> evaluated(SqlPreparedStatement statement, List<String> arguments, String shard) {
        String name = ARGUMENTS + NAMES.incrementAndGet();
        StringBuilder prepare = new StringBuilder("PREPARE " + name + " (" + String.join(", ", statement.types()) + ") AS SELECT ");
        for (int i = 1; i <= arguments.size(); i++) {
            prepare.append(i > 1 ? ", $" : "$").append(i);
        }
        String execute = "EXECUTE " + name + " (" + String.join(", ", arguments) + ")";
        return onShard(shard, lease -> prepared(lease, name, prepare.toString(), () -> {
            StatementResult result = ShardExecutor.run(lease.connection(), execute, List.of(), logicalDatabase);
            byte[][] row = ((StatementResult.Rows) result).rows().getFirst();
            List<Object> values = new ArrayList<>(row.length);
            for (int i = 0; i < row.length; i++) {
                String type = statement.driverTypes().get(i);
                values.add(row[i] == null ? new PgTypedValue.Null(type) : new PgTypedValue(type, new String(row[i], StandardCharsets.UTF_8)));
            }
            return values;
        }));
    }

    /**
     * Runs {@code prepare} (creating statement {@code name} on the connection), then {@code work}, then deallocates it.
     * When {@code work} fails inside a transaction the DEALLOCATE fails too (the transaction is aborted): the name, used
     * once only, is then left on the connection without harm, and {@code work}'s error is the one reported.
     */
    private static <T> T prepared(SessionBackends.Lease lease, String name, String prepare, OnStatement<T> work) throws SQLException {
        ShardExecutor.execute(lease.connection(), prepare);
        T result;
        try {
            result = work.run();
        } catch (SQLException | RuntimeException e) {
            try {
                ShardExecutor.execute(lease.connection(), "DEALLOCATE " + name);
            } catch (SQLException deallocate) {
                e.addSuppressed(deallocate);
            }
            throw e;
        }
        ShardExecutor.execute(lease.connection(), "DEALLOCATE " + name);
        return result;
    }

    private interface OnStatement<T> {
        T run() throws SQLException;
    }

    /** The server's error for an EXECUTE with too many or too few arguments (with its DETAIL). */
    static ProxyException wrongNumber(String name, int expected, int given) {
        String message = "wrong number of parameters for prepared statement \"" + name + "\"";
        String detail = "Expected " + expected + " parameters but got " + given + ".";
        var server = new org.postgresql.util.ServerErrorMessage("SERROR\0VERROR\0C42601\0M" + message + "\0D" + detail + "\0");
        return ProxyException.backend(0, "42601", message, new org.postgresql.util.PSQLException(server));
    }

    private interface OnConnection<T> {
        T run(SessionBackends.Lease lease) throws SQLException;
    }

    /** Runs on {@code shard}'s connection of the open transaction, else a pooled one; a shard's error is the client's. */
    private <T> T onShard(String shard, OnConnection<T> work) {
        SessionBackends.Lease pinned = backends.pinnedLease(shard);
        SessionBackends.Lease lease = pinned != null ? pinned : backends.borrow(shard);
        long start = System.nanoTime();
        try {
            return work.run(lease);
        } catch (SQLException e) {
            throw BackendErrors.translate(e, lease.pool(), start);
        } finally {
            backends.release(lease);
        }
    }
}
