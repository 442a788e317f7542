/**
 * Which keys are hot: every session counts the (table, shard key) pairs its routed writes touch in
 * the core's {@link io.shardgate.proxy.hotkeys.HotKeySketch} (INSERT rows, and UPDATE/DELETE with
 * {@code key = v} or {@code key IN (…)}; each distinct key once per statement; writes without a key
 * are not counted; a write counts once routed, even if a shard then fails it), and a
 * {@link io.shardgate.proxy.hotkeys.HotKeyPublisher} writes the top
 * {@value io.shardgate.proxy.hotkeys.HotKeyPublisher#PUBLISHED_KEYS} with their writes/s to ZooKeeper
 * every few seconds for {@code shardgate hotkey top}, which adds up the proxies.
 */
package io.shardgate.proxy.hotkeys;
