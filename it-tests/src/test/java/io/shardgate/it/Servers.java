package io.shardgate.it;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/** Starts a cluster's database servers side by side: each spends most of its start-up waiting on its own process. */
final class Servers {
    private Servers() {}

    /**
     * Runs {@code start} {@code count} times at once and returns the servers in order. If any fails, the ones that
     * started are closed and the first failure is thrown.
     */
    static <T extends AutoCloseable> List<T> startAll(int count, Supplier<T> start) {
        List<CompletableFuture<T>> starting = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            starting.add(CompletableFuture.supplyAsync(start));
        }
        List<T> started = new ArrayList<>();
        RuntimeException failure = null;
        for (CompletableFuture<T> f : starting) {
            try {
                started.add(f.join());
            } catch (CompletionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuntimeException r ? r : e;
                }
            }
        }
        if (failure != null) {
            for (T s : started) {
                try {
                    s.close();
                } catch (Exception ignored) {
                    // the start-up failure is what the caller needs to see
                }
            }
            throw failure;
        }
        return started;
    }
}
