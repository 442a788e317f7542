package io.shardgate.proxy.exec;

import com.mysql.cj.jdbc.JdbcConnection;
import com.mysql.cj.jdbc.JdbcStatement;
import com.mysql.cj.jdbc.StatementImpl;
import io.shardgate.proxy.session.BackendNotice;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.postgresql.PGConnection;
import org.postgresql.PGStatement;

/**
 * Runs one statement on one backend connection and reads its whole result: values as the server's
 * text bytes ({@code getBytes} of a text-protocol result is exactly what the server sent), columns
 * from the server's column definitions. No extra round trips: no metadata queries, no generated-key
 * queries (the last insert id comes from the OK packet).
 */
public final class ShardExecutor {
    /** What Connector/J parses of a {@link RawQuery}: any short statement text does. */
    private static final String RAW_PLACEHOLDER = "SELECT";

    private ShardExecutor() {}

    /** Runs {@code sql} with {@code parameters} bound to its {@code ?}s (none: a plain statement). */
    public static StatementResult run(Connection c, String sql, List<Object> parameters, String logicalDatabase) throws SQLException {
        return run(c, sql, parameters, logicalDatabase, notice -> { });
    }

    /**
     * Runs {@code sql} with {@code parameters} bound to its {@code ?}s (none: a plain statement), handing the notices a
     * PostgreSQL shard sent while it ran to {@code notices}.
     */
    public static StatementResult run(Connection c, String sql, List<Object> parameters, String logicalDatabase,
            java.util.function.Consumer<BackendNotice> notices) throws SQLException {
        if (parameters.isEmpty()) {
            try (Statement st = c.createStatement()) {
                boolean postgres = st.isWrapperFor(PGStatement.class);
                if (!postgres) {
                    return read(st, st.execute(sql), logicalDatabase);
                }
                st.setEscapeProcessing(false); // the client's SQL as written: no {fn …} rewriting
                try {
                    return readPostgres(st, st.execute(sql), logicalDatabase);
                } catch (SQLException e) {
                    throw PgShardError.of(e, sql, false);
                } finally {
                    passNotices(st, notices);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.size(); i++) {
                bind(ps, i + 1, parameters.get(i));
            }
            if (!ps.isWrapperFor(PGStatement.class)) {
                return read(ps, ps.execute(), logicalDatabase);
            }
            try {
                return readPostgres(ps, ps.execute(), logicalDatabase);
            } catch (SQLException e) {
                throw PgShardError.of(e, sql, true);
            } finally {
                passNotices(ps, notices);
            }
        }
    }

    /**
     * Runs a MySQL statement given as the bytes to send (the client's own, or SQL in the client's character set): the
     * shard reads exactly these bytes, in the character set the session put on the connection.
     */
    public static StatementResult runBytes(Connection c, byte[] sql, String logicalDatabase) throws SQLException {
        try (RawQuery st = new RawQuery(c.unwrap(JdbcConnection.class), sql, RAW_PLACEHOLDER)) {
            return read(st, st.execute(), logicalDatabase);
        }
    }

    /**
     * Runs MySQL {@code sql} with {@code values} for its {@code ?}s, written into the statement's bytes in the client's
     * character set (see {@link MySqlStatementBytes}), as Connector/J's client-side prepared statements would, but with
     * each string as the client's own bytes.
     */
    public static StatementResult runMySql(Connection c, String sql, List<Object> values, io.shardgate.proxy.session.ClientCharset charset,
            String logicalDatabase) throws SQLException {
        return runBytes(c, mySqlBytes(c, sql, values, charset), logicalDatabase);
    }

    /** MySQL {@code sql} with {@code values} written in, as {@link #runMySql} sends it. */
    public static byte[] mySqlBytes(Connection c, String sql, List<Object> values, io.shardgate.proxy.session.ClientCharset charset)
            throws SQLException {
        JdbcConnection mysql = c.unwrap(JdbcConnection.class);
        boolean noBackslashEscapes = !values.isEmpty() && mysql.getSession().getServerSession().isNoBackslashEscapesSet();
        return MySqlStatementBytes.render(sql, values, charset, noBackslashEscapes);
    }

    /**
     * MySQL {@code sql} with {@code values} written in (see {@link MySqlStatementBytes}) for a connection whose
     * {@code NO_BACKSLASH_ESCAPES} mode is {@code noBackslashEscapes}: what {@link #runMySql} sends, for native connections.
     */
    public static byte[] mySqlBytes(String sql, List<Object> values, io.shardgate.proxy.session.ClientCharset charset,
            boolean noBackslashEscapes) {
        return MySqlStatementBytes.render(sql, values, charset, noBackslashEscapes);
    }

    /** pgJDBC keeps a NoticeResponse as an SQLWarning of the statement, with the server's fields when it has them. */
    static void passNotices(Statement st, java.util.function.Consumer<BackendNotice> notices) throws SQLException {
        for (java.sql.SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
            if (w instanceof org.postgresql.util.PSQLWarning pw && pw.getServerErrorMessage() != null) {
                org.postgresql.util.ServerErrorMessage m = pw.getServerErrorMessage();
                notices.accept(new BackendNotice(Objects.requireNonNullElse(m.getSeverity(), "NOTICE"),
                        Objects.requireNonNullElse(m.getSQLState(), "00000"), Objects.requireNonNullElse(m.getMessage(), "")));
            } else {
                notices.accept(new BackendNotice("WARNING", Objects.requireNonNullElse(w.getSQLState(), "01000"),
                        Objects.requireNonNullElse(w.getMessage(), "")));
            }
        }
    }

    /** Runs a statement whose result does not matter (SET, SAVEPOINT, …). */
    public static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw PgShardError.of(e, sql, false);
        }
    }

    /**
     * The result columns of {@code sql} without running it: a server-side prepare (COM_STMT_PREPARE
     * returns the column definitions), closed right after. Fails with the server's error for invalid SQL.
     */
    public static List<ColumnInfo> describe(Connection c, String sql, String logicalDatabase) throws SQLException {
        if (c.isWrapperFor(PGConnection.class)) {
            // pgJDBC answers getMetaData with a Parse/Describe of the statement, without running it
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ResultSetMetaData md = ps.getMetaData();
                return md == null || md.getColumnCount() == 0 ? List.of() : PgColumns.columns(PgColumns.fields(md), logicalDatabase);
            } catch (SQLException e) {
                throw PgShardError.of(e, sql, true);
            }
        }
        try (PreparedStatement ps = c.unwrap(JdbcConnection.class).serverPrepareStatement(sql)) {
            ResultSetMetaData md = ps.getMetaData();
            if (md == null || md.getColumnCount() == 0) {
                return List.of();
            }
            return ColumnMapping.columns(md.unwrap(com.mysql.cj.jdbc.result.ResultSetMetaData.class).getFields(), logicalDatabase);
        }
    }

    static StatementResult read(Statement st, boolean hasRows, String logicalDatabase) throws SQLException {
        if (!hasRows) {
            long lastInsertId = st.unwrap(StatementImpl.class).getLastInsertID();
            String info = st.unwrap(JdbcStatement.class).getResultSetInternal() instanceof com.mysql.cj.protocol.Resultset r
                    && r.getServerInfo() != null ? r.getServerInfo() : "";
            return new StatementResult.Update(st.getLargeUpdateCount(), lastInsertId, warningCount(st), info, serverStatus(st));
        }
        try (ResultSet rs = st.getResultSet()) {
            ResultSetMetaData md = rs.getMetaData();
            List<ColumnInfo> columns = ColumnMapping.columns(
                    md.unwrap(com.mysql.cj.jdbc.result.ResultSetMetaData.class).getFields(), logicalDatabase);
            int n = columns.size();
            List<byte[][]> rows = new ArrayList<>();
            while (rs.next()) {
                byte[][] row = new byte[n][];
                for (int i = 0; i < n; i++) {
                    row[i] = rs.getBytes(i + 1);
                }
                rows.add(row);
            }
            return new StatementResult.Rows(columns, rows, warningCount(st));
        }
    }

    /**
     * The warning count of the OK or EOF packet that ended the statement's reply, as the server sent it (Connector/J keeps
     * the last one per connection, and fetches the warnings themselves only when asked for them).
     */
    static int serverStatus(Statement st) throws SQLException {
        return ((com.mysql.cj.NativeSession) st.getConnection().unwrap(JdbcConnection.class).getSession()).getServerSession()
                .getStatusFlags();
    }

    static int warningCount(Statement st) throws SQLException {
        return ((com.mysql.cj.NativeSession) st.getConnection().unwrap(JdbcConnection.class).getSession()).getProtocol().getWarningCount();
    }

    /**
     * A PostgreSQL result: values are the server's text output (binary transfer is off), except bytea, which
     * pgJDBC decodes in {@code getBytes}, so its text ({@code \\x…}) is taken instead. No last insert id.
     */
    private static StatementResult readPostgres(Statement st, boolean hasRows, String logicalDatabase) throws SQLException {
        if (!hasRows) {
            return new StatementResult.Update(Math.max(0, st.getLargeUpdateCount()), 0, 0, "");
        }
        try (ResultSet rs = st.getResultSet()) {
            org.postgresql.core.Field[] fields = PgColumns.fields(rs.getMetaData());
            List<ColumnInfo> columns = PgColumns.columns(fields, logicalDatabase);
            int n = fields.length;
            boolean[] bytea = new boolean[n];
            for (int i = 0; i < n; i++) {
                bytea[i] = fields[i].getOID() == PgColumns.BYTEA;
            }
            List<byte[][]> rows = new ArrayList<>();
            while (rs.next()) {
                byte[][] row = new byte[n][];
                for (int i = 0; i < n; i++) {
                    if (bytea[i]) {
                        String text = rs.getString(i + 1);
                        row[i] = text == null ? null : text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    } else {
                        row[i] = rs.getBytes(i + 1);
                    }
                }
                rows.add(row);
            }
            return new StatementResult.Rows(columns, rows, 0);
        }
    }

    /** Binds a front end's value; dates and times as MySQL literals so no time zone conversion can touch them. */
    /** Binds a client value (as the front ends decode them) to a backend statement. */
    public static void bind(PreparedStatement ps, int index, Object value) throws SQLException {
        switch (value) {
            case null -> ps.setNull(index, Types.NULL);
            case LocalDateTime t -> ps.setString(index, dateTime(t));
            case LocalDate d -> ps.setString(index, d.toString());
            case Duration d -> ps.setString(index, time(d));
            case BigInteger b -> ps.setBigDecimal(index, new BigDecimal(b));
            case byte[] b -> ps.setBytes(index, b);
            case PgTypedValue t -> ps.setObject(index, pgObject(t.type(), t.text()));
            case PgTypedValue.Null n -> ps.setObject(index, pgObject(n.type(), null));
            default -> ps.setObject(index, value);
        }
    }

    /** A value pgJDBC binds with the OID of {@code type} (resolved by name, cached per connection). */
    private static org.postgresql.util.PGobject pgObject(String type, String text) throws SQLException {
        org.postgresql.util.PGobject typed = new org.postgresql.util.PGobject();
        typed.setType(type);
        typed.setValue(text);
        return typed;
    }

    static String dateTime(LocalDateTime t) {
        String s = String.format("%04d-%02d-%02d %02d:%02d:%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth(),
                t.getHour(), t.getMinute(), t.getSecond());
        return t.getNano() == 0 ? s : s + String.format(".%06d", t.getNano() / 1000);
    }

    /** MySQL TIME text: {@code [-]HH:MM:SS[.ffffff]}, hours may exceed 24. */
    static String time(Duration d) {
        Duration abs = d.abs();
        long micros = abs.toNanosPart() / 1000;
        String s = String.format("%s%02d:%02d:%02d", d.isNegative() ? "-" : "", abs.toHours(), abs.toMinutesPart(),
                abs.toSecondsPart());
        return micros == 0 ? s : s + String.format(".%06d", micros);
    }
}
