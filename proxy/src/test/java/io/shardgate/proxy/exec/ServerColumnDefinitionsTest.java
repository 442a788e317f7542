package io.shardgate.proxy.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.session.ColumnInfo;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Column definitions read over Connector/J carry what the server sent (a real MariaDB): Connector/J rewrites the length
 * of numeric columns to their type's precision, a DECIMAL's by a digit, a DOUBLE's decimals, and adds flags.
 */
class ServerColumnDefinitionsTest {
    private static LocalMariaDb db;

    @BeforeAll
    static void start() {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        db = LocalMariaDb.temporary();
        db.createDatabase("shop");
    }

    @AfterAll
    static void stop() {
        if (db != null) {
            db.close();
        }
    }

    private static List<ColumnInfo> columns(Connection c, String sql) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return ColumnMapping.columns(rs.getMetaData().unwrap(com.mysql.cj.jdbc.result.ResultSetMetaData.class).getFields(), "shop");
        }
    }

    private static String describe(ColumnInfo c) {
        return c.name() + " length=" + c.length() + " flags=" + c.mysqlWire().flags() + " decimals=" + c.decimals();
    }

    @Test
    void lengthsFlagsAndDecimalsAreTheServers() throws Exception {
        String url = BackendUrl.parse(db.jdbcUrl("shop")).connectorUrl(Duration.ofSeconds(10), 0, true);
        try (Connection c = DriverManager.getConnection(url, db.user(), "")) {
            ServerColumnDefinitions.install(c);
            ServerColumnDefinitions.install(c); // once is enough; again changes nothing
            // the lengths, flags and decimals MariaDB 10.11 sends (as pymysql and mysql2 read them off the wire)
            assertThat(columns(c, "SELECT 1 + 1, GET_LOCK('x', 0), @@autocommit, 2.50, -0.0, 1e3, X'00FF'").stream()
                    .map(ServerColumnDefinitionsTest::describe).toList()).containsExactly(
                    "1 + 1 length=3 flags=129 decimals=0",
                    "GET_LOCK('x', 0) length=1 flags=128 decimals=0",
                    "@@autocommit length=1 flags=128 decimals=0",
                    "2.50 length=5 flags=129 decimals=2",
                    "-0.0 length=4 flags=129 decimals=1",
                    "1e3 length=3 flags=129 decimals=31",
                    "X'00FF' length=2 flags=161 decimals=0");
            // the rows still read as Connector/J reads them
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 + 1, 2.50")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(2);
                assertThat(rs.getBigDecimal(2)).isEqualByComparingTo("2.50");
            }
        }
    }
}
