package io.shardgate.cli;

import java.io.PrintWriter;
import java.time.Instant;

/** The human view of a {@link ClusterStatus}. */
final class StatusText {
    private StatusText() {}

    static void print(ClusterStatus s, PrintWriter out) {
        out.println("cluster    " + s.cluster() + "  (ZooKeeper " + s.zookeeper() + ")");
        out.println("dialect    " + s.dialect());
        out.println("slots      " + s.slots());
        out.println("epoch      " + s.epoch());
        out.println("default    " + s.defaultShard() + " (undeclared tables: " + s.unknownTables() + ")");

        out.println();
        out.println("shards (" + s.shards().size() + ")");
        TextTable shards = new TextTable("NAME", "STATE", "LATENCY", "SLOTS", "RANGES", "POOL", "URL", "");
        for (ClusterStatus.Shard sh : s.shards()) {
            ClusterStatus.Health h = sh.health();
            shards.row(sh.name(), h == null ? "?" : h.up() ? "up" : "DOWN: " + h.error(), h == null || !h.up() ? "-"
                    : String.format(java.util.Locale.ROOT, "%.1f ms", h.latencyMillis()), sh.slotCount(),
                    sh.ranges().isEmpty() ? "-" : String.join(",", sh.ranges()), sh.poolSize(), sh.url(), sh.spare() ? "spare" : "");
        }
        shards.print(out, "  ");

        out.println();
        out.println("tables (" + s.tables().size() + ")");
        if (s.tables().isEmpty()) {
            out.println("  none declared");
        } else {
            TextTable tables = new TextTable("NAME", "KIND", "PLACEMENT");
            for (ClusterStatus.Table t : s.tables()) {
                tables.row(t.name(), t.kind(), placement(t));
            }
            tables.print(out, "  ");
        }

        if (!s.movingSlots().isEmpty()) {
            out.println();
            out.println("moving slots");
            TextTable moving = new TextTable("SLOTS", "FROM", "TO", "PHASE", "MIGRATION");
            for (ClusterStatus.Moving m : s.movingSlots()) {
                moving.row(SlotRun.format(m.from(), m.to()), m.source(), m.target(), m.phase(), m.migration());
            }
            moving.print(out, "  ");
        }
        if (!s.splitKeys().isEmpty()) {
            out.println();
            out.println("split hot keys");
            TextTable splits = new TextTable("TABLE", "KEY", "K");
            s.splitKeys().forEach(k -> splits.row(k.table(), k.key(), k.k()));
            splits.print(out, "  ");
        }

        out.println();
        out.println("proxies (" + s.proxies().size() + " live)");
        if (s.proxies().isEmpty()) {
            out.println("  none");
        } else {
            TextTable proxies = new TextTable("ID", "ADDRESS", "EPOCH", "STARTED");
            for (ClusterStatus.Proxy p : s.proxies()) {
                String epoch = p.appliedEpoch() + (p.appliedEpoch() < s.epoch() ? " (behind)" : "");
                proxies.row(p.id(), p.address(), epoch, Instant.ofEpochMilli(p.startedAtMillis()));
            }
            proxies.print(out, "  ");
        }

        out.println();
        out.println("migrations (" + s.migrations().size() + ")");
        if (s.migrations().isEmpty()) {
            out.println("  none");
        } else {
            TextTable migrations = new TextTable("ID", "PHASE", "FROM", "TO", "SLOTS", "UPDATED", "PROGRESS");
            for (ClusterStatus.Migration m : s.migrations()) {
                migrations.row(m.id(), m.phase(), m.source(), m.target(), m.slotCount(), Instant.ofEpochMilli(m.updatedAtMillis()),
                        m.progress());
            }
            migrations.print(out, "  ");
        }
        out.flush();
    }

    private static String placement(ClusterStatus.Table t) {
        return switch (t.kind()) {
            case "sharded" -> "key " + t.key() + " (" + t.keyType() + ")" + hotKey(t.hotKey()) + (t.sequence() == null ? ""
                    : ", " + t.sequence().column() + " from the cluster sequence (next " + t.sequence().next() + ")");
            case "single" -> "on " + t.shard();
            case "broadcast" -> "on every shard";
            default -> t.kind();
        };
    }

    private static String hotKey(ClusterStatus.HotKey h) {
        if (h == null) {
            return "";
        }
        return h.mode().equals("append")
                ? ", hot keys append split by " + h.splitBy()
                : ", hot keys counter " + String.join(",", h.counters());
    }
}
