package io.shardgate.proxy.session;

/**
 * Protocol-neutral column types. They mirror MySQL's wire types closely (the MySQL codec maps them
 * one to one); the PostgreSQL codec maps them to type OIDs.
 */
public enum ColumnType {
    TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT,
    DECIMAL, FLOAT, DOUBLE,
    BIT, YEAR,
    DATE, TIME, DATETIME, TIMESTAMP,
    CHAR, VARCHAR, TEXT, BINARY, VARBINARY, BLOB,
    JSON, ENUM, SET, GEOMETRY,
    BOOLEAN, UUID,
    NULL
}
