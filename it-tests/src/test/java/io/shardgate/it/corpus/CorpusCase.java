package io.shardgate.it.corpus;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One case of the compatibility corpus, as written in a {@code corpus/<protocol>/*.txt} file: statements run on a fresh
 * session (or two) through the proxy and on the reference server by every driver that runs it.
 *
 * @param name unique in its protocol, used to pick the case alone ({@code -Dcorpus.case=})
 * @param file the file it came from, for messages
 * @param drivers the drivers that run it; empty means every driver able to (see {@link CorpusDriver#supports})
 * @param pending {@code issue14-N: why} when the proxy is known to answer differently today: the harness then requires
 *     a difference, so the fix that removes it must also remove this line
 * @param pendingDrivers the drivers the pending mark applies to; empty means all that run the case
 * @param refused a text the proxy's refusal must contain when the proxy refuses the case by design (its transcript is
 *     then not compared with the server's, but must show the refusal)
 * @param charset the client character set the drivers connect with ({@code utf8mb4} unless said)
 * @param renumberIds compare generated ids up to renaming: the n-th distinct id seen becomes {@code #n}, so a
 *     cluster sequence and a server's counter agree when they hand out ids in the same pattern
 * @param runsLast for the drivers it is pending for, run after every other case (it breaks the proxy session)
 * @param steps the statements in order
 */
public record CorpusCase(String name, String file, Set<String> drivers, Optional<String> pending, Set<String> pendingDrivers,
        Optional<String> refused, String charset, boolean renumberIds, boolean runsLast, List<Step> steps) {

    public CorpusCase {
        requireNonNull(name);
        requireNonNull(file);
        drivers = Set.copyOf(drivers);
        requireNonNull(pending);
        pendingDrivers = Set.copyOf(pendingDrivers);
        requireNonNull(refused);
        requireNonNull(charset);
        steps = List.copyOf(steps);
    }

    /** How a statement is sent. */
    public enum Mode {
        /** the driver's plain query call (text protocol, simple query where the driver has one) */
        TEXT,
        /** the driver's prepared-statement call (server-side where the driver can), with {@link Step#params()} */
        PREPARED,
        /** one prepared statement executed once per parameter set ({@link Step#params()} is an array of arrays) */
        BATCH
    }

    /**
     * One statement.
     *
     * @param connection {@code A} or {@code B}
     * @param setup run before the case's statements; only an error shows in the transcript
     * @param mode how it is sent
     * @param params a JSON array (of arrays for {@link Mode#BATCH}); values are numbers, strings, null, or
     *     {@code {"hex": "00ff"}} (bytes) and {@code {"timestamp": "2024-05-01 10:00:00"}}
     * @param sql the statement, {@code ?} for parameters whatever the driver's own placeholder
     */
    public record Step(String connection, boolean setup, Mode mode, JsonNode params, String sql) {
        public Step {
            requireNonNull(connection);
            requireNonNull(mode);
            requireNonNull(params);
            requireNonNull(sql);
        }
    }

    /** Whether {@code driver} must run this case (a driver can still be unable to: see {@link CorpusDriver#supports}). */
    public boolean listsDriver(String driver) {
        return drivers.isEmpty() || drivers.contains(driver);
    }

    /** The pending mark, if it applies to {@code driver}. */
    public Optional<String> pendingFor(String driver) {
        return pendingDrivers.isEmpty() || pendingDrivers.contains(driver) ? pending : Optional.empty();
    }

    public boolean usesTwoConnections() {
        return steps.stream().anyMatch(s -> s.connection().equals("B"));
    }

    public boolean usesPreparedStatements() {
        return steps.stream().anyMatch(s -> s.mode() != Mode.TEXT);
    }
}
