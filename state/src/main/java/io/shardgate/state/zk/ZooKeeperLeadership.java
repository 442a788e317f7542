package io.shardgate.state.zk;

import io.shardgate.state.Leadership;
import io.shardgate.state.StoreException;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.Participant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Leadership} backed by a Curator {@link LeaderLatch}. The latch gives leadership up when
 * the connection is SUSPENDED (standard error policy), so {@link #isLeader()} turns false before
 * ZooKeeper could expire the session and elect someone else.
 */
final class ZooKeeperLeadership implements Leadership {
    private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperLeadership.class);

    private final LeaderLatch latch;
    private final String role;
    private final String participantId;
    private final String path;
    private final Consumer<ZooKeeperLeadership> onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ZooKeeperLeadership(CuratorFramework client, String path, String role, String participantId,
            Consumer<ZooKeeperLeadership> onClose) {
        this.latch = new LeaderLatch(client, path, participantId);
        this.role = role;
        this.participantId = participantId;
        this.path = path;
        this.onClose = onClose;
    }

    static ZooKeeperLeadership start(CuratorFramework client, String path, String role, String participantId,
            Consumer<ZooKeeperLeadership> onClose) {
        Objects.requireNonNull(participantId, "participantId");
        ZooKeeperLeadership leadership = new ZooKeeperLeadership(client, path, role, participantId, onClose);
        try {
            leadership.latch.start();
        } catch (Exception e) {
            throw new StoreException.Unavailable("joining the leader election " + path + " as " + participantId
                    + " failed: " + e, e);
        }
        return leadership;
    }

    @Override
    public String role() {
        return role;
    }

    @Override
    public String participantId() {
        return participantId;
    }

    @Override
    public boolean isLeader() {
        return !closed.get() && latch.hasLeadership();
    }

    @Override
    public boolean awaitLeadership(Duration timeout) throws InterruptedException {
        if (closed.get()) {
            throw new StoreException.Unavailable("leader election " + path + " of " + participantId + " is closed", null);
        }
        return latch.await(timeout.toMillis(), TimeUnit.MILLISECONDS) && isLeader();
    }

    @Override
    public Optional<String> currentLeader() {
        try {
            Participant leader = latch.getLeader();
            return leader.isLeader() ? Optional.of(leader.getId()) : Optional.empty();
        } catch (Exception e) {
            throw new StoreException.Unavailable("reading the leader of " + path + " failed: " + e, e);
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        onClose.accept(this);
        try {
            latch.close();
        } catch (IOException | RuntimeException e) {
            LOG.warn("closing leader latch {} of {} failed; the session end will remove it", path, participantId, e);
        }
    }
}
