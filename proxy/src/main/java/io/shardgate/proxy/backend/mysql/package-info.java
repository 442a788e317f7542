/**
 * Native MySQL/MariaDB backend connections: the proxy speaks the client side of the MySQL protocol to its shards on
 * Netty, without JDBC, so that a reply can be relayed to the client packet by packet as it arrives (DESIGN.md, "The
 * data path"). {@link io.shardgate.proxy.backend.mysql.MySqlBackendConnection} is one connection: handshake and
 * {@code mysql_native_password} authentication, then one command at a time whose reply packets go to a
 * {@link io.shardgate.proxy.backend.mysql.ReplySink} unmodified, each classified by a
 * {@link io.shardgate.proxy.backend.mysql.ReplyReader} so the sink knows where the reply ends.
 * {@link io.shardgate.proxy.backend.mysql.NativePool} keeps such connections per shard. The one packet ever rewritten
 * is a relayed write's OK, whose last insert id becomes the first id the proxy generated from a cluster sequence
 * ({@link io.shardgate.proxy.backend.mysql.WriteReply}); rows are never decoded.
 *
 * <p>The front end's {@code MySqlFrameDecoder} is not reused for the framing: it joins a logical packet's 16 MB pieces
 * before handing it on, while a relay must pass each physical piece on as it comes (a 1 GB row would otherwise be held
 * whole). {@link io.shardgate.proxy.backend.mysql.PieceDecoder} cuts pieces and says which ones continue a logical
 * packet; the length-encoded integers are read with the front end's {@code Wire}.
 */
package io.shardgate.proxy.backend.mysql;
