package io.shardgate.cli;

import java.util.concurrent.CountDownLatch;

/** Keeps a command in the foreground until the process is asked to stop (Ctrl-C, SIGTERM). */
final class Foreground {
    private Foreground() {}

    /**
     * Registers {@code stop} to run when the JVM shuts down and blocks the calling thread for good;
     * the process ends once {@code stop} has returned.
     */
    static void runUntilStopped(Runnable stop) throws InterruptedException {
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "shardgate-stop"));
        new CountDownLatch(1).await();
    }
}
