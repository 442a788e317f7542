/**
 * The PostgreSQL protocol 3.0 front end: {@link io.shardgate.proxy.pg.PgFrontend} (the Netty listener on
 * {@code listen.postgres-port}), {@code codec} (a decoder state machine from bytes to
 * {@link io.shardgate.proxy.pg.message.PgClientMessage}s with length limits checked before anything is accumulated,
 * the encoder of {@link io.shardgate.proxy.pg.message.PgServerMessage}s, and the binary forms of the common types),
 * {@link io.shardgate.proxy.pg.PgAuth} (SCRAM-SHA-256, md5 and trust against the configured users) and
 * {@link io.shardgate.proxy.pg.PgFrontendHandler}, which runs simple and extended queries through the same
 * protocol-neutral {@link io.shardgate.proxy.session.FrontendSession} as the MySQL front end. Nothing here knows about
 * shards; the decisions a client may notice are listed on the handler and in the README ("The PostgreSQL front end").
 */
package io.shardgate.proxy.pg;
