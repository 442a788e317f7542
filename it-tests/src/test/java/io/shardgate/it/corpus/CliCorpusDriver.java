package io.shardgate.it.corpus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A command-line client in batch mode: {@code mariadb --batch --force -vv}, one process per case (a client
 * session is the case's session; the process costs a few milliseconds, unlike a JVM or an interpreter), or
 * {@code psql -a} with {@code ON_ERROR_STOP=0}, one process for all cases with a {@code \connect} per case. The transcript is the client's own output, stdout and stderr merged
 * (both clients flush stdout before writing an error). Output that is not UTF-8 (a latin1 session) is shown as latin1
 * with a marker, so differing bytes never hide behind a replacement character.
 *
 * @param name {@code mariadb} or {@code psql}
 */
public record CliCorpusDriver(String name) implements CorpusDriver {

    @Override
    public String version() {
        try {
            return run(List.of(name, "--version"), Map.of(), "", "utf8mb4").lines().findFirst().orElse("").strip();
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    @Override
    public boolean supports(CorpusCase c) {
        return !c.usesTwoConnections() && !c.usesPreparedStatements();
    }

    @Override
    public Map<String, String> run(Target target, List<CorpusCase> cases) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        if (name.equals("psql")) {
            // one psql for all cases of a character set: each case on a new session (\connect), as a client would
            Map<String, List<CorpusCase>> byCharset = new LinkedHashMap<>();
            cases.forEach(c -> byCharset.computeIfAbsent(c.charset(), k -> new java.util.ArrayList<>()).add(c));
            for (List<CorpusCase> group : byCharset.values()) {
                // -a echoes the marker's own \\echo line too, at the end of the case before
                String output = psql(target, group).lines().filter(l -> !l.startsWith("\\echo '### "))
                        .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
                out.putAll(ScriptCorpusDriver.split(output));
            }
            return out;
        }
        for (CorpusCase c : cases) {
            long start = System.nanoTime();
            out.put(c.name(), mariadb(target, c));
            Timing.note(name, target, c, start);
        }
        return out;
    }

    private static String mariadb(Target t, CorpusCase c) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("mariadb", "--no-defaults", "--batch", "--force",
                "-vv", "--connect-timeout=10", "-h" + t.host(), "-P" + t.port(), "-u" + t.user(),
                "--default-character-set=" + c.charset()));
        if (!t.password().isEmpty()) {
            cmd.add("-p" + t.password());
        }
        cmd.add(t.database());
        // a delimiter no statement contains, so a line with ';' goes out as one message, as an application sends it
        StringBuilder script = new StringBuilder("DELIMITER $$\n");
        for (CorpusCase.Step s : c.steps()) {
            // the delimiter on a line of its own, so a trailing '-- comment' does not swallow it
            script.append(s.sql()).append("\n$$\n");
        }
        return infoAsDetail(run(cmd, Map.of(), script.toString(), c.charset()));
    }

    /**
     * {@code -vv} prints after each statement without a result its "Query OK, n rows affected" and, on the next line, the
     * OK packet's info text as {@code mysql_info()} reads it ("Rows matched: 1  Changed: 1  Warnings: 0"): that line
     * becomes an {@code ok-detail:} line, compared under {@code -Dcorpus.metadata=full} as the other drivers' are.
     */
    static String infoAsDetail(String output) {
        StringBuilder out = new StringBuilder();
        boolean afterOk = false;
        for (String line : output.split("\n", -1)) {
            if (afterOk && !line.isEmpty()) {
                out.append("ok-detail: info=").append(line).append('\n');
            } else {
                out.append(line).append('\n');
            }
            afterOk = line.startsWith("Query OK, ");
        }
        out.setLength(out.length() - 1);
        return out.toString();
    }

    /**
     * One psql process for {@code cases} (all of one character set): each case starts with its {@code ### name} line
     * and a {@code \connect} (quietly: the connected message names the user, which differs between the targets).
     */
    private static String psql(Target t, List<CorpusCase> cases) throws IOException {
        List<String> cmd = List.of("psql", "-X", "-a", "-v", "ON_ERROR_STOP=0", "-h", t.host(), "-p", Integer.toString(t.port()),
                "-U", t.user(), "-d", t.database());
        StringBuilder script = new StringBuilder();
        for (CorpusCase c : cases) {
            script.append("\\echo '### ").append(c.name()).append("'\n\\set QUIET on\n\\connect\n\\set QUIET off\n");
            for (CorpusCase.Step s : c.steps()) {
                script.append(s.sql()).append(s.sql().endsWith(";") ? "\n" : ";\n");
            }
        }
        String charset = cases.getFirst().charset();
        return run(cmd, Map.of("PGPASSWORD", t.password(), "PGCLIENTENCODING", charset.equals("utf8mb4") ? "UTF8" : charset,
                "PGSSLMODE", "disable", "PGCONNECT_TIMEOUT", "10"), script.toString(), charset);
    }

    /** Runs {@code cmd} with {@code stdin} encoded in the session's character set, as a terminal in it would type it. */
    private static String run(List<String> cmd, Map<String, String> env, String stdin, String charset) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(bytes);
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(charset.equals("latin1") ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8));
        } catch (IOException ignored) {
            // the client stopped reading; its output says why
        }
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd.getFirst() + " did not finish within 60 s");
            }
            reader.join();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        byte[] b = bytes.toByteArray();
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString() + "exit: " + p.exitValue() + "\n";
        } catch (CharacterCodingException e) {
            return "(output is not UTF-8; shown as latin1)\n" + new String(b, StandardCharsets.ISO_8859_1) + "exit: " + p.exitValue() + "\n";
        }
    }
}
