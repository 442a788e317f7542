package io.shardgate.it.corpus;

/** Reports a case that took long, so the corpus stays fast (it runs in every CI build). */
final class Timing {
    static final long SLOW_MILLIS = 1_000;

    private Timing() {}

    static void note(String driver, Target target, CorpusCase c, long startNanos) {
        long millis = (System.nanoTime() - startNanos) / 1_000_000;
        if (millis >= SLOW_MILLIS) {
            System.out.printf("corpus: slow case '%s' with %s against the %s: %d ms%n", c.name(), driver, target.role(), millis);
        }
    }
}
