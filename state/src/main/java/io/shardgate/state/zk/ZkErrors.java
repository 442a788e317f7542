package io.shardgate.state.zk;

import io.shardgate.state.StoreException;
import org.apache.zookeeper.KeeperException;

/** The one place where ZooKeeper's error codes become the store's error contract. */
final class ZkErrors {
    private ZkErrors() {}

    /**
     * @param action what was being done, e.g. {@code "read slot map"}
     * @param path   the node the call was about (used when ZooKeeper's exception names none, as in a multi-op)
     */
    static StoreException translate(KeeperException e, String cluster, String action, String path) {
        String node = e.getPath() == null ? path : e.getPath();
        String where = action + " " + node + " (cluster " + cluster + ")";
        return switch (e.code()) {
            case NONODE -> new StoreException.NotFound(where + ": node does not exist");
            case NODEEXISTS -> new StoreException.AlreadyExists(where + ": node already exists");
            case BADVERSION -> new StoreException.VersionConflict(where + ": node version changed since it was read");
            case CONNECTIONLOSS, SESSIONEXPIRED, OPERATIONTIMEOUT, REQUESTTIMEOUT, SESSIONMOVED ->
                    new StoreException.Unavailable(where + ": ZooKeeper unavailable (" + e.code() + ")", e);
            // Anything else (ACLs, quotas, server errors) is also "cannot be served now" for a caller.
            default -> new StoreException.Unavailable(where + ": ZooKeeper refused the request (" + e.code() + ")", e);
        };
    }
}
