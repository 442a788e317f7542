package io.shardgate.proxy.mysql;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.PreparedInfo;
import io.shardgate.proxy.session.SessionFactory;
import io.shardgate.proxy.session.SessionState;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hand-written stand-in for the proxy core behind the MySQL front end (STYLE.md #9): users with
 * passwords, one database, and sessions that answer what drivers send on connect plus a handful of
 * fixed statements. Every statement and every decoded execute is recorded for assertions.
 *
 * <p>Statements it understands (case-insensitive, leading comments ignored):
 * <ul>
 *   <li>{@code SELECT @@a AS x, @@session.b ...}: one row of server variables, named by their aliases;</li>
 *   <li>{@code SET ...} (tracks {@code autocommit}), {@code COMMIT}, {@code ROLLBACK}, {@code BEGIN},
 *       {@code START TRANSACTION}, {@code USE db}, {@code SHOW WARNINGS};</li>
 *   <li>{@code SELECT * FROM types ...}: {@link #TYPES_COLUMNS} with the one row {@link #TYPES_ROW};</li>
 *   <li>{@code INSERT ...}: 2 rows affected, last insert id 1001;</li>
 *   <li>{@code SELECT * FROM nope}: a backend's error 1146, passed through.</li>
 * </ul>
 * Anything else fails with a PARSE_ERROR naming the statement, so a test sees what it forgot.
 */
public final class FakeSessions implements SessionFactory {
    public static final String SERVER_VERSION = "5.5.5-10.11.19-MariaDB-shardgate";
    public static final String DATABASE = "shardgate";
    /** A statement whose handling dies of a StackOverflowError, for the front end's last resort. */
    public static final String OVERFLOW = "select overflow";
    public static final long LAST_INSERT_ID = 1001;
    /** The backend error {@code SELECT * FROM nope} fails with, as a shard would report it. */
    public static final int NO_SUCH_TABLE_ERRNO = 1146;
    public static final String NO_SUCH_TABLE_STATE = "42S02";
    public static final String NO_SUCH_TABLE_MESSAGE = "Table 'shardgate.nope' doesn't exist";

    public static final List<ColumnInfo> TYPES_COLUMNS = List.of(
            column("i", ColumnType.INT, 11, 0, false, false),
            column("tiny", ColumnType.TINYINT, 4, 0, false, false),
            column("big", ColumnType.BIGINT, 20, 0, false, false),
            column("ubig", ColumnType.BIGINT, 20, 0, true, false),
            column("dec", ColumnType.DECIMAL, 22, 6, false, false),
            column("dbl", ColumnType.DOUBLE, 22, 31, false, false),
            column("flt", ColumnType.FLOAT, 12, 31, false, false),
            column("txt", ColumnType.VARCHAR, 400, 0, false, false),
            column("blob", ColumnType.BLOB, 65535, 0, false, true),
            column("d", ColumnType.DATE, 10, 0, false, false),
            column("ts", ColumnType.DATETIME, 26, 6, false, false),
            column("t", ColumnType.TIME, 8, 0, false, false),
            column("negt", ColumnType.TIME, 17, 6, false, false),
            column("n", ColumnType.VARCHAR, 400, 0, false, false),
            column("ni", ColumnType.INT, 11, 0, false, false));

    public static final byte[][] TYPES_ROW = {
            utf8("-42"), utf8("-5"), utf8("9007199254740993"), utf8("18446744073709551615"), utf8("12345.678901"),
            utf8("-2.25"), utf8("1.5"), utf8("héllo ✓ 日本"), new byte[] {0, 1, 2, (byte) 0xFF, 'x'},
            utf8("2024-02-29"), utf8("2024-02-29 13:14:15.123456"), utf8("13:14:15"), utf8("-26:03:04.500000"),
            null, null};

    private static final Map<String, String> VARIABLES = Map.ofEntries(
            Map.entry("auto_increment_increment", "1"),
            Map.entry("character_set_client", "utf8mb4"),
            Map.entry("character_set_connection", "utf8mb4"),
            Map.entry("character_set_server", "utf8mb4"),
            Map.entry("collation_connection", "utf8mb4_general_ci"),
            Map.entry("collation_server", "utf8mb4_general_ci"),
            Map.entry("init_connect", ""),
            Map.entry("interactive_timeout", "28800"),
            Map.entry("license", "GPL"),
            Map.entry("lower_case_table_names", "0"),
            Map.entry("max_allowed_packet", "67108864"),
            Map.entry("net_write_timeout", "60"),
            Map.entry("net_buffer_length", "16384"),
            Map.entry("performance_schema", "0"),
            Map.entry("query_cache_size", "0"),
            Map.entry("query_cache_type", "OFF"),
            Map.entry("sql_mode", "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"),
            Map.entry("system_time_zone", "UTC"),
            Map.entry("time_zone", "SYSTEM"),
            Map.entry("tx_isolation", "REPEATABLE-READ"),
            Map.entry("transaction_isolation", "REPEATABLE-READ"),
            Map.entry("tx_read_only", "0"),
            Map.entry("transaction_read_only", "0"),
            Map.entry("wait_timeout", "28800"),
            Map.entry("version_comment", "Shardgate fake"),
            Map.entry("version", SERVER_VERSION));

    private static final Pattern LEADING_COMMENT = Pattern.compile("^\\s*/\\*.*?\\*/\\s*", Pattern.DOTALL);
    private static final Pattern AUTOCOMMIT = Pattern.compile("autocommit\\s*=\\s*(\\w+)");
    private static final Pattern SELECT_ITEM = Pattern.compile("^(.+?)(?:\\s+as\\s+(\\S+))?$", Pattern.CASE_INSENSITIVE);

    private final Map<String, String> passwords = Map.of("app", "app", "nopass", "");
    private final List<FakeSession> opened = new CopyOnWriteArrayList<>();
    private final AtomicInteger statementIds = new AtomicInteger();

    @Override
    public Optional<String> password(String user) {
        return Optional.ofNullable(passwords.get(user));
    }

    @Override
    public FrontendSession open(ClientInfo client) {
        if (client.schema() != null && !DATABASE.equals(client.schema())) {
            throw unknownDatabase(client.schema());
        }
        FakeSession s = new FakeSession(client);
        opened.add(s);
        return s;
    }

    @Override
    public String serverVersion() {
        return SERVER_VERSION;
    }

    public List<FakeSession> opened() {
        return List.copyOf(opened);
    }

    public FakeSession last() {
        if (opened.isEmpty()) {
            throw new AssertionError("no session was opened");
        }
        return opened.getLast();
    }

    private static ProxyException unknownDatabase(String schema) {
        return new ProxyException(ErrorCode.UNKNOWN_DATABASE, "Unknown database '" + schema + "'");
    }

    /** One client's session; records what it was asked. */
    public final class FakeSession implements FrontendSession {
        private final ClientInfo client;
        private final List<String> statements = new CopyOnWriteArrayList<>();
        private final List<List<Object>> executions = new CopyOnWriteArrayList<>();
        private final Map<Integer, String> prepared = new ConcurrentHashMap<>();
        private volatile String schema;
        private volatile boolean autocommit = true;
        private volatile boolean inTransaction;
        private volatile boolean closed;
        private final AtomicInteger cancels = new AtomicInteger();
        private final AtomicInteger gone = new AtomicInteger();

        FakeSession(ClientInfo client) {
            this.client = client;
            this.schema = client.schema();
        }

        public ClientInfo client() {
            return client;
        }

        /** How often a client asked to cancel the running statement (KILL QUERY). */
        public int cancels() {
            return cancels.get();
        }

        /** How often the front end said the client went away. */
        public int clientGoneCalls() {
            return gone.get();
        }

        @Override
        public void cancel() {
            cancels.incrementAndGet();
        }

        @Override
        public void clientGone() {
            gone.incrementAndGet();
        }

        /** Every statement text received, through query or prepare, in order. */
        public List<String> statements() {
            return List.copyOf(statements);
        }

        /** The decoded parameters of every execute, in order. */
        public List<List<Object>> executions() {
            return List.copyOf(executions);
        }

        public boolean closed() {
            return closed;
        }

        @Override
        public void initDb(String schema) {
            if (!DATABASE.equals(schema)) {
                throw unknownDatabase(schema);
            }
            this.schema = schema;
        }

        @Override
        public StatementResult query(String sql) {
            statements.add(sql);
            return run(sql);
        }

        @Override
        public PreparedInfo prepare(String sql) {
            statements.add(sql);
            int id = statementIds.incrementAndGet();
            prepared.put(id, sql);
            List<ColumnInfo> parameters = new ArrayList<>();
            for (int i = 0; i < placeholders(sql); i++) {
                parameters.add(ColumnInfo.computed("?", ColumnType.VARCHAR, 0));
            }
            List<ColumnInfo> columns = normalize(sql).startsWith("select * from types") ? TYPES_COLUMNS : List.of();
            return new PreparedInfo(id, parameters, columns);
        }

        @Override
        public StatementResult execute(int statementId, List<Object> parameters) {
            String sql = prepared.get(statementId);
            if (sql == null) {
                throw new ProxyException(ErrorCode.UNKNOWN_PREPARED_STATEMENT,
                        "Unknown prepared statement handler (" + statementId + ") given to mysqld_stmt_execute");
            }
            executions.add(Arrays.asList(parameters.toArray()));
            if (parameters.size() != placeholders(sql)) {
                throw new ProxyException(ErrorCode.WRONG_PARAMETER_COUNT, "Incorrect arguments to mysqld_stmt_execute");
            }
            return run(sql);
        }

        @Override
        public void closeStatement(int statementId) {
            prepared.remove(statementId);
        }

        @Override
        public void resetStatement(int statementId) {
        }

        @Override
        public SessionState state() {
            return new SessionState(schema, autocommit, inTransaction);
        }

        @Override
        public void close() {
            closed = true;
            inTransaction = false;
        }

        private StatementResult run(String sql) {
            String q = normalize(sql);
            if (q.equals(OVERFLOW)) {
                throw new StackOverflowError("the fake session's overflow"); // what no limit caught: the last resort's case
            }
            if (q.startsWith("select @@")) {
                return variables(stripLimit(stripComments(sql).trim().substring("select".length())));
            }
            if (q.startsWith("set ")) {
                Matcher m = AUTOCOMMIT.matcher(q);
                if (m.find()) {
                    autocommit = List.of("1", "on", "true").contains(m.group(1));
                    if (autocommit) {
                        inTransaction = false;
                    }
                }
                return StatementResult.Update.of(0);
            }
            if (q.equals("commit") || q.equals("rollback")) {
                inTransaction = false;
                return StatementResult.Update.of(0);
            }
            if (q.equals("begin") || q.startsWith("start transaction")) {
                inTransaction = true;
                return StatementResult.Update.of(0);
            }
            if (q.startsWith("use ")) {
                initDb(sql.trim().substring(4).trim().replace("`", ""));
                return StatementResult.Update.of(0);
            }
            if (q.equals("show warnings")) {
                return new StatementResult.Rows(List.of(column("Level", ColumnType.VARCHAR, 7, 0, false, false),
                        column("Code", ColumnType.INT, 4, 0, true, false), column("Message", ColumnType.VARCHAR, 512, 0, false, false)),
                        List.of(), 0);
            }
            if (!autocommit) {
                inTransaction = true;
            }
            if (q.startsWith("select * from types")) {
                return new StatementResult.Rows(TYPES_COLUMNS, List.<byte[][]>of(TYPES_ROW), 0);
            }
            if (q.startsWith("select database()")) {
                return new StatementResult.Rows(List.of(ColumnInfo.computed("database()", ColumnType.VARCHAR, 64)),
                        List.<byte[][]>of(new byte[][] {schema == null ? null : utf8(schema)}), 0);
            }
            if (q.startsWith("insert")) {
                return new StatementResult.Update(2, LAST_INSERT_ID, 0, "");
            }
            if (q.startsWith("select * from nope")) {
                throw ProxyException.backend(NO_SUCH_TABLE_ERRNO, NO_SUCH_TABLE_STATE, NO_SUCH_TABLE_MESSAGE, null);
            }
            throw new ProxyException(ErrorCode.PARSE_ERROR, "the fake session does not understand: " + sql);
        }

        /** {@code @@a AS x, @@session.b}: one row, columns named by alias or by the expression itself. */
        private StatementResult variables(String list) {
            List<ColumnInfo> columns = new ArrayList<>();
            List<byte[]> values = new ArrayList<>();
            for (String item : list.split(",")) {
                Matcher m = SELECT_ITEM.matcher(item.trim());
                if (!m.matches()) {
                    throw new ProxyException(ErrorCode.PARSE_ERROR, "the fake session cannot read the select item " + item);
                }
                String expression = m.group(1).trim();
                String name = m.group(2) == null ? expression : m.group(2);
                String variable = expression.toLowerCase(Locale.ROOT).replaceFirst("^@@(session\\.|global\\.|local\\.)?", "");
                String value = variable.equals("autocommit") ? (autocommit ? "1" : "0") : VARIABLES.get(variable);
                columns.add(ColumnInfo.computed(name, ColumnType.VARCHAR, 255));
                values.add(value == null ? null : utf8(value));
            }
            return new StatementResult.Rows(columns, List.<byte[][]>of(values.toArray(new byte[0][])), 0);
        }
    }

    private static String normalize(String sql) {
        return stripComments(sql).trim().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
    }

    private static String stripComments(String sql) {
        String s = sql;
        for (Matcher m = LEADING_COMMENT.matcher(s); m.find(); m = LEADING_COMMENT.matcher(s)) {
            s = s.substring(m.end());
        }
        return s;
    }

    private static String stripLimit(String s) {
        return s.replaceFirst("(?i)\\s+limit\\s+\\d+\\s*$", "");
    }

    private static int placeholders(String sql) {
        int n = 0;
        char quote = 0;
        for (char c : sql.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"' || c == '`') {
                quote = c;
            } else if (c == '?') {
                n++;
            }
        }
        return n;
    }

    private static ColumnInfo column(String name, ColumnType type, long length, int decimals, boolean unsigned, boolean binary) {
        return new ColumnInfo(DATABASE, "types", "types", name, name, type, length, decimals, unsigned, false, binary,
                binary ? 63 : 45);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
