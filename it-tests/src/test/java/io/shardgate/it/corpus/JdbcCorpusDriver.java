package io.shardgate.it.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A JDBC driver in the test's own JVM (Connector/J or pgJDBC are real drivers wherever they run): one connection per
 * session of a case, statements through {@link Statement} or {@link PreparedStatement}, every result of a statement
 * printed ({@code getMoreResults}), generated keys of a MySQL INSERT, warnings.
 *
 * @param name {@code connectorj} or {@code pgjdbc} (or a variant with other URL options)
 * @param protocol {@code mysql} or {@code postgres}
 * @param options URL options added to every connection, e.g. {@code useServerPrepStmts=true}
 */
public record JdbcCorpusDriver(String name, String protocol, String options) implements CorpusDriver {
    private static final Set<Integer> BINARY = Set.of(Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB);

    @Override
    public String version() {
        try {
            var d = DriverManager.getDriver(protocol.equals("mysql") ? "jdbc:mysql://x/" : "jdbc:postgresql://x/");
            return d.getClass().getPackage().getImplementationTitle() + " " + d.getMajorVersion() + "." + d.getMinorVersion()
                    + " (" + d.getClass().getPackage().getImplementationVersion() + ")";
        } catch (SQLException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    @Override
    public boolean supports(CorpusCase c) {
        return true;
    }

    @Override
    public Map<String, String> run(Target target, List<CorpusCase> cases) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        for (CorpusCase c : cases) {
            long start = System.nanoTime();
            out.put(c.name(), runCase(target, c));
            Timing.note(name, target, c, start);
        }
        return out;
    }

    String url(Target t, String charset) {
        if (protocol.equals("mysql")) {
            String encoding = switch (charset) {
                case "utf8mb4", "utf8" -> "UTF-8";
                case "latin1" -> "ISO-8859-1";
                default -> charset;
            };
            return "jdbc:mysql://" + t.host() + ":" + t.port() + "/" + t.database() + "?user=" + t.user() + "&password="
                    + t.password() + "&sslMode=DISABLED&allowPublicKeyRetrieval=true&connectTimeout=10000&characterEncoding="
                    + encoding + (options.isEmpty() ? "" : "&" + options);
        }
        return "jdbc:postgresql://" + t.host() + ":" + t.port() + "/" + t.database() + "?user=" + t.user() + "&password="
                + t.password() + "&sslmode=disable" + (options.isEmpty() ? "" : "&" + options);
    }

    private String runCase(Target target, CorpusCase c) throws SQLException {
        StringBuilder out = new StringBuilder();
        Map<String, Connection> sessions = new LinkedHashMap<>();
        try {
            for (CorpusCase.Step step : c.steps()) {
                Connection conn = sessions.get(step.connection());
                if (conn == null) {
                    try {
                        conn = DriverManager.getConnection(url(target, c.charset()));
                    } catch (SQLException e) {
                        out.append(step.connection()).append("> (connect)\n");
                        printError(e, out);
                        break;
                    }
                    sessions.put(step.connection(), conn);
                }
                StringBuilder stepOut = new StringBuilder();
                boolean failed = runStep(conn, step, stepOut);
                if (!step.setup() || failed) {
                    out.append(step.connection()).append("> ").append(step.sql()).append('\n').append(stepOut);
                }
            }
        } finally {
            for (Connection conn : sessions.values()) {
                try {
                    conn.close();
                } catch (SQLException ignored) {
                    // the transcript is what matters
                }
            }
        }
        return out.toString();
    }

    /** Runs one statement and prints what the driver saw; true if it failed. */
    private boolean runStep(Connection conn, CorpusCase.Step step, StringBuilder out) {
        boolean keys = protocol.equals("mysql") && step.sql().regionMatches(true, 0, "INSERT", 0, 6);
        try {
            switch (step.mode()) {
                case TEXT -> {
                    try (Statement st = conn.createStatement()) {
                        boolean rs = keys ? st.execute(step.sql(), Statement.RETURN_GENERATED_KEYS) : st.execute(step.sql());
                        printResults(st, rs, keys, out);
                    }
                }
                case PREPARED -> {
                    try (PreparedStatement ps = keys ? conn.prepareStatement(step.sql(), Statement.RETURN_GENERATED_KEYS)
                            : conn.prepareStatement(step.sql())) {
                        bind(ps, step.params());
                        printResults(ps, ps.execute(), keys, out);
                    }
                }
                case BATCH -> {
                    try (PreparedStatement ps = keys ? conn.prepareStatement(step.sql(), Statement.RETURN_GENERATED_KEYS)
                            : conn.prepareStatement(step.sql())) {
                        for (JsonNode set : step.params()) {
                            bind(ps, set);
                            ps.addBatch();
                        }
                        int[] counts = ps.executeBatch();
                        out.append("batch: ").append(java.util.Arrays.toString(counts)).append('\n');
                        if (keys) {
                            printKeys(ps, out);
                        }
                        printWarnings(ps.getWarnings(), out);
                    }
                }
            }
            return false;
        } catch (SQLException e) {
            printError(e, out);
            return true;
        }
    }

    private static void bind(PreparedStatement ps, JsonNode params) throws SQLException {
        for (int i = 0; i < params.size(); i++) {
            JsonNode p = params.get(i);
            int at = i + 1;
            if (p.isNull()) {
                ps.setNull(at, Types.VARCHAR);
            } else if (p.isIntegralNumber()) {
                ps.setLong(at, p.asLong());
            } else if (p.isNumber()) {
                ps.setBigDecimal(at, new BigDecimal(p.asText()));
            } else if (p.isTextual()) {
                ps.setString(at, p.asText());
            } else if (p.has("hex")) {
                ps.setBytes(at, HexFormat.of().parseHex(p.get("hex").asText()));
            } else if (p.has("timestamp")) {
                ps.setTimestamp(at, Timestamp.valueOf(p.get("timestamp").asText()));
            } else {
                throw new IllegalArgumentException("unknown parameter " + p);
            }
        }
    }

    private static void printResults(Statement st, boolean isResultSet, boolean keys, StringBuilder out) throws SQLException {
        boolean rs = isResultSet;
        while (true) {
            if (rs) {
                try (ResultSet r = st.getResultSet()) {
                    printResultSet(r, out);
                }
            } else {
                long count = st.getLargeUpdateCount();
                if (count == -1) {
                    break;
                }
                out.append("update count: ").append(count).append('\n');
                if (keys) {
                    printKeys(st, out);
                }
            }
            rs = st.getMoreResults();
        }
        printWarnings(st.getWarnings(), out);
    }

    private static void printKeys(Statement st, StringBuilder out) throws SQLException {
        try (ResultSet k = st.getGeneratedKeys()) {
            while (k.next()) {
                out.append("generated key: ").append(k.getString(1)).append('\n');
            }
        }
    }

    private static void printResultSet(ResultSet r, StringBuilder out) throws SQLException {
        ResultSetMetaData md = r.getMetaData();
        int n = md.getColumnCount();
        for (int i = 1; i <= n; i++) {
            out.append("column: ").append(md.getColumnLabel(i)).append(" type=").append(md.getColumnTypeName(i)).append('(')
                    .append(md.getColumnType(i)).append(") class=").append(md.getColumnClassName(i)).append('\n');
            out.append("column-detail: precision=").append(md.getPrecision(i)).append(" scale=").append(md.getScale(i))
                    .append(" nullable=").append(md.isNullable(i)).append('\n');
        }
        while (r.next()) {
            out.append("row:");
            for (int i = 1; i <= n; i++) {
                out.append(i == 1 ? " " : " | ").append(value(r, md, i));
            }
            out.append('\n');
        }
    }

    private static String value(ResultSet r, ResultSetMetaData md, int i) throws SQLException {
        if (BINARY.contains(md.getColumnType(i)) || md.getColumnTypeName(i).equals("bytea")) {
            byte[] b = r.getBytes(i);
            return b == null ? "NULL" : "x'" + HexFormat.of().formatHex(b) + "'";
        }
        Object o = r.getObject(i);
        if (o == null) {
            return "NULL";
        }
        return o.getClass().getSimpleName() + ":" + Transcripts.quote(r.getString(i));
    }

    private static void printWarnings(SQLWarning w, StringBuilder out) {
        for (SQLWarning x = w; x != null; x = x.getNextWarning()) {
            out.append("warning: ").append(x.getErrorCode()).append(' ').append(x.getSQLState()).append(' ')
                    .append(x.getMessage()).append('\n');
        }
    }

    private static void printError(SQLException e, StringBuilder out) {
        out.append("error: ").append(e.getErrorCode()).append(' ').append(e.getSQLState()).append(' ')
                .append(Transcripts.oneLine(e.getMessage())).append('\n');
    }
}
