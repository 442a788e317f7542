package io.shardgate.it.corpus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.AssertionFailedError;

/**
 * Runs a protocol's corpus with every driver against the proxy and the reference server and turns the transcripts into
 * one JUnit test per (driver, case): a case must answer the same byte for byte, a {@code pending} case must still
 * differ (so a fix that lands is told to remove its mark), a {@code refused} case must show the proxy's refusal.
 *
 * <p>Each driver runs all its cases in one go against each target, the proxy run and the reference run at the same time
 * (they touch different servers); drivers run one after the other, since their cases share the tables. Transcripts are
 * written to {@code target/corpus/<protocol>/<driver>/<case>.{proxy,reference}.txt} for reading.
 *
 * <p>{@code -Dcorpus.case=<regex>} and {@code -Dcorpus.driver=<name,...>} select what runs.
 */
public final class CorpusRun {
    private static final boolean FULL_METADATA = System.getProperty("corpus.metadata", "").equals("full");
    private final String protocol;
    private final List<CorpusCase> cases;
    private final Target proxy;
    private final Target reference;
    private final Path outputDir;

    public CorpusRun(String protocol, List<CorpusCase> cases, Target proxy, Target reference, Path outputDir) {
        this.protocol = protocol;
        String only = System.getProperty("corpus.case", "");
        Pattern p = Pattern.compile(only.isEmpty() ? ".*" : only);
        this.cases = cases.stream().filter(c -> p.matcher(c.name()).matches()).toList();
        this.proxy = proxy;
        this.reference = reference;
        this.outputDir = outputDir;
    }

    /** Whether {@code -Dcorpus.driver} lets {@code driver} run. */
    public static boolean selected(String driver) {
        String only = System.getProperty("corpus.driver", "");
        return only.isEmpty() || Arrays.asList(only.split(",")).contains(driver);
    }

    /**
     * Runs every driver on both targets now and returns their tests, one container per driver, one test per case it ran.
     * The cases marked {@code runs-last} run, for the drivers they are pending for, after every other case of every
     * driver: they kill the proxy session, and a backend connection it held may go back to the pool broken (the bug
     * they pin), failing whichever unrelated case borrows it next.
     */
    public List<DynamicContainer> runAll(List<CorpusDriver> drivers) {
        Map<String, Map<String, String>> viaProxy = new LinkedHashMap<>();
        Map<String, Map<String, String>> onReference = new LinkedHashMap<>();
        for (boolean last : new boolean[] {false, true}) {
            for (CorpusDriver d : drivers) {
                List<CorpusCase> batch = casesOf(d).stream().filter(c -> runsLast(c, d) == last).toList();
                long start = System.nanoTime();
                CompletableFuture<Map<String, String>> onProxy = CompletableFuture.supplyAsync(() -> runOn(d, proxy, batch));
                onReference.computeIfAbsent(d.name(), k -> new LinkedHashMap<>()).putAll(runOn(d, reference, batch));
                viaProxy.computeIfAbsent(d.name(), k -> new LinkedHashMap<>()).putAll(onProxy.join());
                System.out.printf("corpus %s: %s: %d cases%s in %d ms%n", protocol, d.name(), batch.size(),
                        last ? " (runs-last)" : "", (System.nanoTime() - start) / 1_000_000);
            }
        }
        List<DynamicContainer> out = new ArrayList<>();
        for (CorpusDriver d : drivers) {
            String version = d.version();
            System.out.printf("corpus %s: %s is %s%n", protocol, d.name(), version);
            List<DynamicNode> tests = new ArrayList<>();
            for (CorpusCase c : casesOf(d)) {
                String p = viaProxy.get(d.name()).getOrDefault(c.name(), "(no transcript)\n");
                String r = onReference.get(d.name()).getOrDefault(c.name(), "(no transcript)\n");
                save(d.name(), c.name(), p, r);
                tests.add(DynamicTest.dynamicTest(c.name(), () -> verdict(c, d.name(), p, r)));
            }
            out.add(DynamicContainer.dynamicContainer(d.name() + " (" + version + ")", tests));
        }
        return out;
    }

    private List<CorpusCase> casesOf(CorpusDriver d) {
        return cases.stream().filter(c -> c.listsDriver(d.name()) && d.supports(c)).toList();
    }

    private static boolean runsLast(CorpusCase c, CorpusDriver d) {
        return c.runsLast() && c.pendingFor(d.name()).isPresent();
    }

    private static Map<String, String> runOn(CorpusDriver driver, Target target, List<CorpusCase> cases) {
        if (cases.isEmpty()) {
            return Map.of();
        }
        try {
            return driver.run(target, cases);
        } catch (Exception e) {
            throw new IllegalStateException(driver.name() + " could not run the corpus against the " + target.role() + ": " + e, e);
        }
    }

    /** Checks one case's transcripts; throws an AssertionFailedError that names case, file and driver. */
    static void verdict(CorpusCase c, String driver, String viaProxy, String onReference) {
        String where = "case '" + c.name() + "' (corpus file " + c.file() + ") with " + driver;
        String p = comparable(c, viaProxy);
        String r = comparable(c, onReference);
        if (c.refused().isPresent()) {
            String reason = c.refused().get();
            boolean shown = p.lines().anyMatch(l -> l.contains(reason) && (l.contains("error") || l.contains("ERROR")));
            if (!shown) {
                throw new AssertionFailedError(where + ": the proxy must refuse with an error containing '" + reason
                        + "', but its transcript is:\n" + p);
            }
            return;
        }
        String diff = Transcripts.unifiedDiff("reference server", r, "proxy", p);
        Optional<String> pending = c.pendingFor(driver);
        if (pending.isPresent()) {
            if (diff.isEmpty()) {
                throw new AssertionFailedError(where + " now passes: remove 'pending: " + pending.get()
                        + "' from the case (the proxy answers as the reference server does)");
            }
            return;
        }
        if (!diff.isEmpty()) {
            throw new AssertionFailedError(where + ": the proxy answers differently from the reference server\n" + diff);
        }
    }

    /**
     * The part of a transcript that is compared: without {@code column-detail:} lines (display lengths, flags, decimals,
     * precision, a column's character set) and {@code ok-detail:} lines (the OK packet's info text and status flags,
     * mysql2's changedRows read from the info): {@code -Dcorpus.metadata=full} compares them too (what still differs
     * there: see the package documentation). Ids are renamed under {@code ids: renumber}.
     */
    static String comparable(CorpusCase c, String transcript) {
        String t = FULL_METADATA ? transcript
                : String.join("\n", transcript.lines().filter(l -> !l.startsWith("column-detail: ") && !l.startsWith("ok-detail: ")).toList());
        return c.renumberIds() ? Transcripts.renumberIds(t) : t;
    }

    private void save(String driver, String caseName, String viaProxy, String onReference) {
        try {
            Path dir = outputDir.resolve(protocol).resolve(driver);
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(caseName + ".proxy.txt"), viaProxy, StandardCharsets.UTF_8);
            Files.writeString(dir.resolve(caseName + ".reference.txt"), onReference, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The selected cases. */
    public List<CorpusCase> cases() {
        return cases;
    }

    /** For a summary: pending cases by their mark. */
    public Map<String, List<String>> pendingByItem() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (CorpusCase c : cases) {
            c.pending().ifPresent(p -> out.computeIfAbsent(p.split("\\s+")[0], k -> new ArrayList<>()).add(c.name()));
        }
        return out;
    }
}
