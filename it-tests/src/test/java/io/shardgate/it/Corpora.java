package io.shardgate.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;

/** What the two corpus tests share: their resources, the schema script, where the driver scripts and outputs are. */
final class Corpora {
    private Corpora() {}

    static String resource(String name) {
        try (InputStream in = Corpora.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs each statement of {@code script} (ended by ';' at a line end; '--' lines are comments) on both connections. */
    static void runSchema(String script, Connection proxy, Connection reference) throws SQLException {
        StringBuilder statement = new StringBuilder();
        for (String line : script.split("\n")) {
            if (line.strip().startsWith("--") || line.isBlank()) {
                continue;
            }
            statement.append(line).append('\n');
            if (line.stripTrailing().endsWith(";")) {
                String sql = statement.toString().strip();
                sql = sql.substring(0, sql.length() - 1);
                for (Connection c : new Connection[] {proxy, reference}) {
                    try {
                        Sql.update(c, sql);
                    } catch (SQLException e) {
                        throw new SQLException("corpus schema: " + sql + "\nfailed on " + (c == proxy ? "the proxy" : "the reference")
                                + ": " + e.getMessage(), e);
                    }
                }
                statement.setLength(0);
            }
        }
    }

    /** {@code it-tests}, from the {@code shardgate.root} property failsafe sets (or the working directory). */
    static Path itTestsDir() {
        String root = System.getProperty("shardgate.root");
        return root == null ? Path.of("").toAbsolutePath() : Path.of(root).resolve("it-tests").normalize();
    }

    /** A driver script under {@code it-tests/src/test}. */
    static String script(String relative) {
        return itTestsDir().resolve("src/test").resolve(relative).toString();
    }

    /** Where transcripts go for reading. */
    static Path outputDir() {
        return itTestsDir().resolve("target/corpus");
    }
}
