package io.shardgate.proxy.session;

import java.util.Objects;

/**
 * One result column as the client should see it.
 *
 * <p>A MySQL session's names (schema, table, column) are in wire form: the bytes the client receives, in its
 * character_set_results, decoded losslessly as UTF-8 ({@link ClientCharset#decode} of {@link ClientCharset#UTF8MB4}),
 * and written back with {@link ClientCharset#encode}. For a utf8mb4 session that is ordinary text; for a latin1 session
 * a name holds the server's latin1 bytes (é as the escape of byte E9), so nothing converts them on the way.
 *
 * @param schema      database name shown to the client (the logical database, not a shard's)
 * @param table       table alias as written in the query ("" if none)
 * @param orgTable    physical table name ("" if none)
 * @param name        column label
 * @param orgName     physical column name ("" for expressions)
 * @param type        column type
 * @param length      display length in characters (MySQL column length semantics)
 * @param decimals    digits after the point (DECIMAL, fractional seconds)
 * @param unsigned    unsigned integer/decimal
 * @param notNull     declared NOT NULL
 * @param binary      binary collation / binary string
 * @param collationId MySQL collation id of the column's character set (63 = binary)
 * @param pgTypeOid   PostgreSQL type OID as a PostgreSQL backend described the column, or 0 when the
 *                    column did not come from one (the PostgreSQL front end then maps {@code type})
 * @param pgTypeModifier PostgreSQL type modifier (atttypmod), -1 when none
 * @param pgTableOid  the OID of the table the column comes from, as the cluster's catalog shard (the default shard,
 *                    where catalog queries run) knows it, or 0: a client (pgJDBC's ResultSetMetaData) looks the column
 *                    up in pg_catalog by this OID, through the proxy, so another shard's OID would name another table
 * @param pgColumnNumber the column's attribute number (attnum) in that table, 0 with {@code pgTableOid} 0
 * @param mysqlWire   the wire type and flags exactly as a MySQL backend sent them in the column definition, or null for a
 *                    column the proxy describes itself (then {@code type} and the booleans say what it writes)
 */
public record ColumnInfo(String schema, String table, String orgTable, String name, String orgName, ColumnType type,
        long length, int decimals, boolean unsigned, boolean notNull, boolean binary, int collationId, int pgTypeOid,
        int pgTypeModifier, int pgTableOid, int pgColumnNumber, MySqlWire mysqlWire) {

    /**
     * A MySQL column definition's type byte and flags as the server wrote them. {@link ColumnType} is protocol-neutral
     * and folds codes a client tells apart (LONG_BLOB 251 and BLOB 252 are both TEXT: pymysql's type_code and
     * Connector/J's LONGTEXT/MEDIUMTEXT differ) and flags it does not model (PRI_KEY, AUTO_INCREMENT, ZEROFILL …); a
     * column passed through unchanged is written back with these.
     */
    public record MySqlWire(int type, int flags) {}

    /** A column with PostgreSQL table facts and no MySQL wire form. */
    public ColumnInfo(String schema, String table, String orgTable, String name, String orgName, ColumnType type,
            long length, int decimals, boolean unsigned, boolean notNull, boolean binary, int collationId, int pgTypeOid,
            int pgTypeModifier, int pgTableOid, int pgColumnNumber) {
        this(schema, table, orgTable, name, orgName, type, length, decimals, unsigned, notNull, binary, collationId, pgTypeOid,
                pgTypeModifier, pgTableOid, pgColumnNumber, null);
    }

    /** A column without a PostgreSQL table of its own (an expression, or a table no catalog query would find). */
    public ColumnInfo(String schema, String table, String orgTable, String name, String orgName, ColumnType type,
            long length, int decimals, boolean unsigned, boolean notNull, boolean binary, int collationId, int pgTypeOid,
            int pgTypeModifier) {
        this(schema, table, orgTable, name, orgName, type, length, decimals, unsigned, notNull, binary, collationId, pgTypeOid,
                pgTypeModifier, 0, 0);
    }

    /** A column described by a MySQL backend or computed by the proxy: no PostgreSQL type of its own. */
    public ColumnInfo(String schema, String table, String orgTable, String name, String orgName, ColumnType type,
            long length, int decimals, boolean unsigned, boolean notNull, boolean binary, int collationId) {
        this(schema, table, orgTable, name, orgName, type, length, decimals, unsigned, notNull, binary, collationId, 0, -1);
    }

    public ColumnInfo {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(orgTable, "orgTable");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(orgName, "orgName");
        Objects.requireNonNull(type, "type");
    }

    /** This column without its PostgreSQL table OID and attribute number. */
    public ColumnInfo withoutPgTable() {
        return pgTableOid == 0 && pgColumnNumber == 0 ? this : new ColumnInfo(schema, table, orgTable, name, orgName, type, length,
                decimals, unsigned, notNull, binary, collationId, pgTypeOid, pgTypeModifier, 0, 0, mysqlWire);
    }

    /** {@code columns} without their PostgreSQL table OIDs and attribute numbers. */
    public static java.util.List<ColumnInfo> withoutPgTables(java.util.List<ColumnInfo> columns) {
        return columns.stream().map(ColumnInfo::withoutPgTable).toList();
    }

    /** A computed column of the proxy's own. */
    public static ColumnInfo computed(String name, ColumnType type, long length) {
        return new ColumnInfo("", "", "", name, "", type, length, 0, false, false, false, 45);
    }

    /**
     * The decimals a MariaDB server writes in the definition of a string it computes (a literal, {@code VERSION()},
     * {@code @@version}, SHOW WARNINGS' texts): NOT_FIXED_DEC.
     */
    public static final int STRING_DECIMALS = 39;

    /**
     * A utf8mb4 string the proxy computes as a server would: {@code length} in bytes (characters × 4), decimals
     * {@link #STRING_DECIMALS}, NOT NULL where the server's expression cannot be NULL.
     */
    public static ColumnInfo computedString(String name, long length, boolean notNull) {
        return new ColumnInfo("", "", "", name, "", ColumnType.VARCHAR, length, STRING_DECIMALS, false, notNull, false, 45);
    }

    /** A BIGINT UNSIGNED the proxy computes as a server does a counter variable ({@code @@warning_count}): nullable. */
    public static ColumnInfo computedCounter(String name) {
        return new ColumnInfo("", "", "", name, "", ColumnType.BIGINT, 21, 0, true, false, true, 63);
    }
}
