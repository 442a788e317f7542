/**
 * The in-memory twin of the ZooKeeper store. Same contract and semantics (versions from 0, epoch
 * check, NotFound/AlreadyExists, barrier, watches on their own threads); sessions via
 * {@link io.shardgate.state.memory.InMemoryClusterStore#newSession()}, and two test hooks:
 * {@code expireProxy} and {@code simulateConnectionState}.
 */
package io.shardgate.state.memory;
