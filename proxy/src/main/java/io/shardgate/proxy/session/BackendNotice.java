package io.shardgate.proxy.session;

import java.util.Objects;

/**
 * A notice or warning a shard sent while running a statement (PostgreSQL's NoticeResponse), to be passed on to the
 * client as the shard sent it.
 *
 * @param severity {@code WARNING}, {@code NOTICE}, {@code INFO}, {@code DEBUG} or {@code LOG}, not localised
 * @param sqlState the five-character SQLSTATE ({@code 00000}, {@code 01000}, {@code 42P07}, …)
 * @param message  the primary message
 */
public record BackendNotice(String severity, String sqlState, String message) {
    public BackendNotice {
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(sqlState, "sqlState");
        Objects.requireNonNull(message, "message");
    }
}
