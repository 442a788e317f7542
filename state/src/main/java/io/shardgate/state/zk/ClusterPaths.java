package io.shardgate.state.zk;

import io.shardgate.state.support.Names;

/** The znode layout of one cluster; see the package documentation. */
public record ClusterPaths(String cluster) {
    public static final String ROOT = "/shardgate";

    public ClusterPaths {
        Names.requireSegment("cluster name", cluster);
    }

    public String root() {
        return ROOT + "/" + cluster;
    }

    public String definition() {
        return root() + "/definition";
    }

    public String slotMap() {
        return root() + "/slotmap";
    }

    public String migrations() {
        return root() + "/migrations";
    }

    public String migration(String id) {
        return migrations() + "/" + Names.requireSegment("migration id", id);
    }

    public String operations() {
        return root() + "/operations";
    }

    public String operation(String name) {
        return operations() + "/" + Names.requireSegment("operation name", name);
    }

    /** Parent of the cluster sequences, one node per table holding the next unreserved id in decimal. */
    public String sequences() {
        return root() + "/sequences";
    }

    public String sequence(String table) {
        return sequences() + "/" + Names.requireSegment("table name", table);
    }

    /** Parent of the leader elections. */
    public String leaders() {
        return root() + "/leaders";
    }

    /** Latch of one role's election (Curator LeaderLatch participants are its children). */
    public String leader(String role) {
        return leaders() + "/" + Names.requireSegment("leader role", role);
    }

    public String proxies() {
        return root() + "/proxies";
    }

    public String proxy(String id) {
        return proxies() + "/" + Names.requireSegment("proxy id", id);
    }

    /** Parent of the hot-key reports, one EPHEMERAL child per publishing proxy. */
    public String hotKeys() {
        return root() + "/hotkeys";
    }

    public String hotKeyReport(String proxyId) {
        return hotKeys() + "/" + Names.requireSegment("proxy id", proxyId);
    }
}
