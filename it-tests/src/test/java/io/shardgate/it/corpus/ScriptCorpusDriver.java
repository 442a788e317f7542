package io.shardgate.it.corpus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardgate.local.CommandRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A driver in another language, run as one process per target for all its cases: {@code corpus_driver.py} with PyMySQL
 * or psycopg2 (Debian's packages, so {@code /usr/bin/python3}), {@code corpus_driver.js} with mysql2 or pg (installed by
 * {@link NodeModules}). The cases go in as a JSON file; the transcripts come back on stdout, each after a
 * {@code ### <case>} line.
 *
 * @param name the driver's name as cases use it
 * @param command the command line before the JSON file's path
 * @param env extra environment (NODE_PATH)
 * @param twoSessions whether the script can hold two sessions in one case (all can)
 */
public record ScriptCorpusDriver(String name, List<String> command, Map<String, String> env, boolean twoSessions)
        implements CorpusDriver {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ScriptCorpusDriver {
        command = List.copyOf(command);
        env = Map.copyOf(env);
    }

    @Override
    public String version() {
        List<String> cmd = new ArrayList<>(command);
        cmd.add("--version");
        CommandRunner.Result r = runner(cmd).run();
        return r.output().strip();
    }

    @Override
    public boolean supports(CorpusCase c) {
        return twoSessions || !c.usesTwoConnections();
    }

    @Override
    public Map<String, String> run(Target target, List<CorpusCase> cases) throws IOException {
        ObjectNode spec = JSON.createObjectNode();
        spec.set("target", JSON.valueToTree(Map.of("host", target.host(), "port", target.port(), "user", target.user(),
                "password", target.password(), "database", target.database())));
        ArrayNode list = spec.putArray("cases");
        for (CorpusCase c : cases) {
            ObjectNode n = list.addObject();
            n.put("name", c.name());
            n.put("charset", c.charset());
            ArrayNode steps = n.putArray("steps");
            for (CorpusCase.Step s : c.steps()) {
                ObjectNode sn = steps.addObject();
                sn.put("connection", s.connection());
                sn.put("setup", s.setup());
                sn.put("mode", s.mode().name());
                sn.set("params", s.params());
                sn.put("sql", s.sql());
            }
        }
        Path file = Files.createTempFile("corpus-" + name + "-" + target.role(), ".json");
        try {
            Files.writeString(file, JSON.writeValueAsString(spec), StandardCharsets.UTF_8);
            List<String> cmd = new ArrayList<>(command);
            cmd.add(file.toString());
            CommandRunner.Result r = runner(cmd).run();
            if (r.exitCode() != 0) {
                throw new IllegalStateException(name + " against the " + target.role() + " exited with " + r.exitCode()
                        + ":\n" + r.output());
            }
            return split(r.output());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private CommandRunner runner(List<String> cmd) {
        CommandRunner runner = CommandRunner.of(cmd).timeout(Duration.ofMinutes(3));
        for (var e : env.entrySet()) {
            runner = runner.env(e.getKey(), e.getValue());
        }
        return runner;
    }

    /** Transcripts by case name from a {@code ### <case>}-separated output. */
    static Map<String, String> split(String output) {
        Map<String, String> out = new LinkedHashMap<>();
        String current = null;
        StringBuilder b = new StringBuilder();
        for (String line : output.split("\n", -1)) {
            if (line.startsWith("### ")) {
                if (current != null) {
                    out.put(current, b.toString());
                }
                current = line.substring(4).strip();
                b.setLength(0);
            } else if (current != null && !(line.isEmpty() && b.isEmpty())) {
                b.append(line).append('\n');
            }
        }
        if (current != null) {
            out.put(current, b.toString().stripTrailing() + (b.isEmpty() ? "" : "\n"));
        }
        return out;
    }
}
