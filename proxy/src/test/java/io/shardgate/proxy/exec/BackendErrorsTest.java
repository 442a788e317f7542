package io.shardgate.proxy.exec;

import static org.assertj.core.api.Assertions.assertThat;

import com.mysql.cj.jdbc.exceptions.MysqlDataTruncation;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class BackendErrorsTest {
    /** Connector/J's MysqlDataTruncation says "Data truncation: " before the server's text: the client gets the server's. */
    @Test
    void dataTruncationPrefixIsDropped() {
        SQLException e = new MysqlDataTruncation("Data too long for column 'name' at row 1", 0, false, false, 0, 0, 1406);
        assertThat(e.getMessage()).isEqualTo("Data truncation: Data too long for column 'name' at row 1");
        assertThat(BackendErrors.connectorJMessage(e)).isEqualTo("Data too long for column 'name' at row 1");
    }

    /** Other exceptions keep their text, even one that starts like Connector/J's prefix (it is the server's then). */
    @Test
    void otherMessagesAreKept() {
        SQLException e = new SQLException("Data truncation: the server said so", "HY000", 1105);
        assertThat(BackendErrors.connectorJMessage(e)).isEqualTo("Data truncation: the server said so");
    }

    /** Every class-22 error reaches Connector/J's MysqlDataTruncation with SQLSTATE 22001; the server's state comes back. */
    @Test
    void dataExceptionsGetTheServersSqlState() {
        assertThat(BackendErrors.serverSqlState(truncation(1406))).isEqualTo("22001"); // ER_DATA_TOO_LONG
        assertThat(BackendErrors.serverSqlState(truncation(1264))).isEqualTo("22003"); // ER_WARN_DATA_OUT_OF_RANGE
        assertThat(BackendErrors.serverSqlState(truncation(1292))).isEqualTo("22007"); // ER_TRUNCATED_WRONG_VALUE
        assertThat(BackendErrors.serverSqlState(truncation(1365))).isEqualTo("22012"); // ER_DIVISION_BY_ZERO
        assertThat(BackendErrors.serverSqlState(truncation(1366))).isEqualTo("22007"); // MariaDB's, HY000 on MySQL
        assertThat(BackendErrors.serverSqlState(truncation(1916))).isEqualTo("22003"); // MariaDB ER_DATA_OVERFLOW
        assertThat(BackendErrors.serverSqlState(new SQLException("x", "42S02", 1146))).isEqualTo("42S02");
    }

    private static SQLException truncation(int errno) {
        return new MysqlDataTruncation("text", 0, false, false, 0, 0, errno);
    }
}
