package io.shardgate.it.corpus;

import java.util.List;
import java.util.Map;

/**
 * A real client that runs corpus cases and prints, per case, a transcript of what it saw: for each statement the
 * result sets (columns and types as the driver reports them, values as the driver's exact representation or their
 * bytes in hex), affected rows, last insert id, warnings, or the error (code, SQLSTATE, message). A driver process is
 * started once per target for all its cases, never once per case.
 */
public sealed interface CorpusDriver permits JdbcCorpusDriver, ScriptCorpusDriver, CliCorpusDriver, HibernateCorpusDriver {

    /** The name cases use in {@code drivers:} and messages use. */
    String name();

    /** Its version, as the report shows it. */
    String version();

    /** Whether this driver can run {@code c} at all (a command-line client has one session and no prepared statements). */
    boolean supports(CorpusCase c);

    /** Runs {@code cases} in order against {@code target}, each on fresh sessions; transcripts by case name. */
    Map<String, String> run(Target target, List<CorpusCase> cases) throws Exception;
}
