package io.shardgate.cluster;

/** The SQL family a cluster speaks: its front-end protocol, its backends' driver and the parser dialect. */
public enum Dialect {
    MYSQL,
    POSTGRES
}
