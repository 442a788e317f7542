package io.shardgate.proxy.execute;

import io.shardgate.proxy.admin.ProxyMetrics;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import java.util.ArrayList;
import java.util.List;

/**
 * A write on its authoritative shard with the copies of its keys to the shadow shards (DESIGN.md, "Moving slots
 * online"): the current image of each affected key is read on the authoritative shard, inside the writing transaction
 * and with {@code FOR UPDATE}, and replaces the key's rows on the shadow (delete, then insert). The client's statement
 * is never replayed on the shadow, so {@code SET n = n + 1} cannot be applied twice, and the row locks make a copy and
 * the migrator's chunk copy of the same rows serialise.
 *
 * <p>Outside a client transaction the proxy makes one: lookups, the write, the copies, then the shadows commit and
 * the authoritative shard last. Inside one, the shadows' connections join the transaction and commit with it;
 * a failed copy rolls the whole transaction back, since its write must never commit without its copy.
 */
final class DualWriter {
    /** Keys per copy round; bounds the IN list and the multi-row INSERT. */
    static final int KEYS_PER_ROUND = 500;

    private final ShardCalls calls;
    private final SessionCursor cursor;
    private final ProxyMetrics metrics;

    DualWriter(ShardCalls calls, SessionCursor cursor, ProxyMetrics metrics) {
        this.calls = calls;
        this.cursor = cursor;
        this.metrics = metrics;
    }

    StatementResult write(ShardStatement statement, List<ShadowCopy> copies, List<Object> parameters) {
        if (cursor.transactional()) {
            return writeOnce(statement, copies, parameters);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return writeOnce(statement, copies, parameters);
            } catch (LockConflict conflict) {
                if (attempt >= conflict.attempts()) {
                    throw conflict.error();
                }
                metrics.dualWriteRetried(conflict.kind());
                java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.ThreadLocalRandom.current()
                        .nextLong(1, 10L * attempt + 1) * 1_000_000L); // apart, so that the two sides do not collide again
            }
        }
    }

    /**
     * A dual write of the proxy's own transaction that a shard ended with a deadlock or a lock wait timeout, before
     * anything committed: the proxy runs it again, as a client would retry it, since one server would not have failed
     * this autocommit statement. The cause is on the shadow: each copy deletes the key's rows and inserts the source's
     * image, so under REPEATABLE READ two copies of neighbouring keys take gap locks on the same gap and then each
     * waits to insert into the other's (InnoDB's classic insert-intention deadlock), where the single-row statements
     * themselves never conflict.
     */
    private static final class LockConflict extends RuntimeException {
        private final transient ProxyException error;
        private final String kind;
        private final int attempts;

        LockConflict(ProxyException error, String kind, int attempts) {
            super(error.getMessage(), error, false, false);
            this.error = error;
            this.kind = kind;
            this.attempts = attempts;
        }

        ProxyException error() {
            return error;
        }

        String kind() {
            return kind;
        }

        int attempts() {
            return attempts;
        }

        /** A deadlock is retried up to 5 times; a lock wait timeout once (each already waited the shard's lock timeout). */
        static LockConflict of(BackendError e) {
            if (e.deadlock()) {
                return new LockConflict(e.error(), "deadlock", 5);
            }
            if (e.lockWaitTimeout()) {
                return new LockConflict(e.error(), "lock-wait-timeout", 2);
            }
            return null;
        }
    }

    private StatementResult writeOnce(ShardStatement statement, List<ShadowCopy> copies, List<Object> parameters) {
        boolean inClientTransaction = cursor.transactional();
        BackendConnection source = cursor.acquire(statement.shard());
        List<BackendConnection> shadows = new ArrayList<>();
        BackendConnection current = source;
        boolean wrote = false;
        boolean committing = false;
        boolean committed = false;
        String copyingTo = statement.shard();
        try {
            if (!inClientTransaction) {
                source.begin();
            }
            List<List<Object>> keys = new ArrayList<>(copies.size());
            for (ShadowCopy copy : copies) {
                keys.add(switch (copy.keys()) {
                    case ShadowCopy.KnownKeys k -> k.keys();
                    case ShadowCopy.LookupKeys l -> source.lookUpKeys(l, parameters);
                });
            }
            StatementResult result = calls.timed(statement.shard(), () -> source.run(statement, parameters));
            wrote = true;
            for (int i = 0; i < copies.size(); i++) {
                ShadowCopy copy = copies.get(i);
                if (keys.get(i).isEmpty()) {
                    continue;
                }
                copyingTo = copy.shadowShard();
                current = shadow(copy.shadowShard(), inClientTransaction, shadows);
                copy(source, current, copy, keys.get(i));
            }
            if (!inClientTransaction) {
                committing = true;
                for (BackendConnection shadow : shadows) {
                    current = shadow;
                    shadow.commit();
                }
                current = source;
                source.commit();
                committed = true;
            }
            return calls.remember(source, result);
        } catch (BackendError e) {
            ProxyException error = e.error();
            if (!inClientTransaction) {
                rollbackQuietly(source, shadows);
                LockConflict conflict = committing ? null : LockConflict.of(e);
                throw conflict != null ? conflict : error;
            }
            if (!wrote) {
                throw calls.failure(current, e); // the statement failed on its own: the transaction goes on as usual
            }
            cursor.rollBackForFailedCopy();
            String message = error.getMessage() + "; the write touched slots that are moving and its copy to shard "
                    + current.shard() + " failed, so the transaction was rolled back on every shard";
            // a backend error keeps its errno and SQLSTATE (a deadlock stays 1213, which clients retry)
            throw error.code() == null ? ProxyException.backend(error.error().mysqlErrno(), error.error().sqlState(), message, error)
                    : new ProxyException(error.code(), message, error);
        } catch (RuntimeException | Error e) {
            if (e instanceof ProxyException p) {
                if (!inClientTransaction || !wrote) {
                    throw p; // the proxy's own transaction is rolled back below, before autocommit is restored
                }
                // a shadow could not be reached after the write: the client's transaction must not commit it without its copy
                cursor.rollBackForFailedCopy();
                String message = p.getMessage() + "; the write touched slots that are moving and its copy to shard " + copyingTo
                        + " could not be made, so the transaction was rolled back on every shard";
                throw p.code() == null ? ProxyException.backend(p.error().mysqlErrno(), p.error().sqlState(), message, p)
                        : new ProxyException(p.code(), message, p);
            }
            // the write may have run without its copy: no connection of this statement may commit or go back to the pool
            shadows.forEach(BackendConnection::discard);
            if (current != source) {
                current.discard(); // a pinned shadow of the client's transaction, halfway through its copy
            }
            throw calls.unexpected(source, e);
        } finally {
            if (!inClientTransaction) {
                if (!committed) {
                    // turning autocommit back on commits what is pending: a write must never commit without its copies
                    rollbackQuietly(source, shadows);
                }
                source.restoreAutocommit();
                shadows.forEach(BackendConnection::restoreAutocommit);
                shadows.forEach(cursor::release);
            }
            cursor.release(source);
        }
    }

    /** Replaces the rows of {@code keys} on the shadow with their image on the source, {@link #KEYS_PER_ROUND} keys at a time. */
    private static void copy(BackendConnection source, BackendConnection shadow, ShadowCopy copy, List<Object> keys)
            throws BackendError {
        for (int from = 0; from < keys.size(); from += KEYS_PER_ROUND) {
            List<Object> round = keys.subList(from, Math.min(keys.size(), from + KEYS_PER_ROUND));
            RowImage image = source.readImage(copy.table(), copy.keyColumn(), round);
            shadow.replaceRows(copy.table(), copy.keyColumn(), round, image);
        }
    }

    /** The connection that receives copies for {@code shard}: joins the client's transaction, or a fresh one of the proxy's. */
    private BackendConnection shadow(String shard, boolean inClientTransaction, List<BackendConnection> shadows) {
        if (inClientTransaction) {
            return cursor.shadowInTransaction(shard);
        }
        for (BackendConnection c : shadows) {
            if (c.shard().equals(shard)) {
                return c;
            }
        }
        BackendConnection c = cursor.borrow(shard);
        shadows.add(c);
        try {
            c.begin();
        } catch (BackendError e) {
            throw e.error(); // named after the shadow, not the write's shard
        }
        return c;
    }

    private static void rollbackQuietly(BackendConnection source, List<BackendConnection> shadows) {
        for (BackendConnection c : shadows) {
            try {
                c.rollback();
            } catch (BackendError ignored) {
                // a broken connection: the server rolls back on disconnect
            }
        }
        try {
            source.rollback();
        } catch (BackendError ignored) {
            // as above
        }
    }
}
