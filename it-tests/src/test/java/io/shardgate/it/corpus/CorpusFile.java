package io.shardgate.it.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads the corpus files of one protocol ({@code corpus/mysql/*.txt} or {@code corpus/postgres/*.txt} on the test class
 * path). The grammar, line by line ({@code #} starts a comment line, blank lines are ignored):
 *
 * <pre>
 * == case-name
 * drivers: connectorj pymysql          (optional: only these drivers)
 * pending: issue14-3 why it differs    (optional: the proxy differs today; the harness requires it to;
 *                                      gap-<name> for a difference no issue names yet)
 * pending-drivers: pymysql             (optional: the pending mark applies to these drivers only)
 * refused: text of the refusal         (optional: the proxy refuses by design; its error must contain this)
 * charset: latin1                      (optional: the client character set; utf8mb4 by default)
 * ids: renumber                        (optional: compare generated ids up to renaming)
 * runs-last: why                       (optional: the pending drivers run it after all other cases)
 * setup: DELETE FROM t WHERE id > 100  (run first on connection A; only errors are printed)
 * [A: |B: ][ps[ JSON]: |batch JSON: ]statement
 * </pre>
 *
 * One statement per line; {@code ps [1, "x"]: SELECT … WHERE id = ?} runs it as a prepared statement with those
 * parameters, {@code batch [[1], [2]]: INSERT …} as a batch.
 */
public final class CorpusFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STEP = Pattern.compile(
            "^(?:(?<conn>[AB]):\\s*)?(?:(?<mode>ps|batch)(?<params>\\s*\\[.*])?:\\s*)?(?<sql>.+)$");
    private static final Pattern PENDING = Pattern.compile("^(issue14-[1-9]|gap-[a-z0-9-]+)\\b.*");

    private CorpusFile() {}

    /** Every case of {@code protocol} ("mysql" or "postgres"), in file name order then file order. */
    public static List<CorpusCase> load(String protocol) {
        URL dir = CorpusFile.class.getResource("/corpus/" + protocol);
        if (dir == null) {
            throw new IllegalStateException("no corpus/" + protocol + " on the test class path");
        }
        List<CorpusCase> cases = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                cases.addAll(parse(f.getFileName().toString(), Files.readString(f, StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        Set<String> names = new HashSet<>();
        for (CorpusCase c : cases) {
            if (!names.add(c.name())) {
                throw new IllegalArgumentException("corpus/" + protocol + ": case '" + c.name() + "' appears twice");
            }
        }
        return cases;
    }

    /** The cases of one file's text. */
    public static List<CorpusCase> parse(String file, String text) {
        List<CorpusCase> out = new ArrayList<>();
        Builder current = null;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            String where = file + ":" + (i + 1);
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("== ")) {
                if (current != null) {
                    out.add(current.build());
                }
                current = new Builder(line.substring(3).strip(), file);
                continue;
            }
            if (current == null) {
                throw new IllegalArgumentException(where + ": a statement before the first '== name' line");
            }
            current.line(line, where);
        }
        if (current != null) {
            out.add(current.build());
        }
        return out;
    }

    private static final class Builder {
        private final String name;
        private final String file;
        private final Set<String> drivers = new LinkedHashSet<>();
        private final Set<String> pendingDrivers = new LinkedHashSet<>();
        private final List<CorpusCase.Step> steps = new ArrayList<>();
        private Optional<String> pending = Optional.empty();
        private Optional<String> refused = Optional.empty();
        private String charset = "utf8mb4";
        private boolean renumberIds;
        private boolean runsLast;

        Builder(String name, String file) {
            if (!name.matches("[a-z0-9][a-z0-9-]*")) {
                throw new IllegalArgumentException(file + ": case name '" + name + "' must be lower-case words joined by '-'");
            }
            this.name = name;
            this.file = file;
        }

        void line(String line, String where) {
            int colon = line.indexOf(':');
            String key = colon > 0 ? line.substring(0, colon) : "";
            String value = colon > 0 ? line.substring(colon + 1).strip() : "";
            switch (key) {
                case "drivers" -> drivers.addAll(Arrays.asList(value.split("\\s+")));
                case "pending-drivers" -> pendingDrivers.addAll(Arrays.asList(value.split("\\s+")));
                case "pending" -> {
                    if (!PENDING.matcher(value).matches()) {
                        throw new IllegalArgumentException(where + ": 'pending:' must name an item, 'issue14-3 why' or 'gap-<name> why'");
                    }
                    pending = Optional.of(value);
                }
                case "refused" -> refused = Optional.of(value);
                case "charset" -> charset = value;
                case "ids" -> renumberIds = value.equals("renumber");
                case "runs-last" -> runsLast = true;
                case "setup" -> steps.add(new CorpusCase.Step("A", true, CorpusCase.Mode.TEXT, JsonNodeFactory.instance.arrayNode(), value));
                default -> steps.add(step(line, where));
            }
        }

        private static CorpusCase.Step step(String line, String where) {
            Matcher m = STEP.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException(where + ": not a statement: " + line);
            }
            String conn = m.group("conn") == null ? "A" : m.group("conn");
            String mode = m.group("mode");
            JsonNode params = JsonNodeFactory.instance.arrayNode();
            if (m.group("params") != null) {
                try {
                    params = JSON.readTree(m.group("params").strip());
                } catch (IOException e) {
                    throw new IllegalArgumentException(where + ": parameters are not a JSON array: " + m.group("params"), e);
                }
            }
            CorpusCase.Mode mm = mode == null ? CorpusCase.Mode.TEXT
                    : mode.equals("ps") ? CorpusCase.Mode.PREPARED : CorpusCase.Mode.BATCH;
            return new CorpusCase.Step(conn, false, mm, params, m.group("sql").strip());
        }

        CorpusCase build() {
            if (steps.isEmpty()) {
                throw new IllegalArgumentException(file + ": case '" + name + "' has no statements");
            }
            if (!pendingDrivers.isEmpty() && pending.isEmpty()) {
                throw new IllegalArgumentException(file + ": case '" + name + "' has pending-drivers without pending");
            }
            if (runsLast && pending.isEmpty()) {
                throw new IllegalArgumentException(file + ": case '" + name + "' has runs-last without pending");
            }
            return new CorpusCase(name, file, drivers, pending, pendingDrivers, refused, charset, renumberIds, runsLast, steps);
        }
    }
}
