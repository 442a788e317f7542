package io.shardgate.cli;

import io.shardgate.state.StoreException;
import io.shardgate.state.zk.EmbeddedZooKeeper;
import java.nio.file.Path;

/** Starts the in-process servers of the one-machine setup, turning failures into one clear line. */
final class EmbeddedServers {
    private EmbeddedServers() {}

    static EmbeddedZooKeeper startZooKeeper(Path dataDir, int port) {
        try {
            return EmbeddedZooKeeper.start(dataDir, port);
        } catch (StoreException.Unavailable e) {
            throw new CliException(e.getMessage(), e);
        }
    }
}
