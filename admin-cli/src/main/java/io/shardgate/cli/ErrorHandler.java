package io.shardgate.cli;

import io.shardgate.config.ConfigException;
import io.shardgate.state.BarrierTimeoutException;
import io.shardgate.state.StoreException;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Every failure reaches the user as exactly one line on stderr, {@code shardgate: error: ...}, and a
 * non-zero exit: 2 for bad usage, 1 for a failure. Stack traces only with {@code --verbose}.
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {
    static final String PREFIX = "shardgate: error: ";
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        StringBuilder line = new StringBuilder(PREFIX).append(oneLine(describe(ex)));
        if (ex instanceof UnmatchedArgumentException u) {
            List<String> suggestions = u.getSuggestions();
            if (!suggestions.isEmpty()) {
                line.append(" (did you mean ").append(String.join(" or ", suggestions.stream().limit(3).toList())).append("?)");
            }
        }
        line.append("; see '").append(cmd.getCommandSpec().qualifiedName()).append(" --help'");
        cmd.getErr().println(line);
        cmd.getErr().flush();
        return EXIT_USAGE;
    }

    private static String describe(ParameterException ex) {
        if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String first = u.getUnmatched().getFirst();
            if (first.startsWith("-")) {
                return "unknown option '" + first + "'";
            }
            return ex.getCommandLine().getSubcommands().isEmpty()
                    ? "unexpected argument '" + first + "'"
                    : "unknown command '" + first + "'";
        }
        return ex.getMessage();
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        err.println(PREFIX + oneLine(describe(ex)));
        if (verbose(parseResult)) {
            ex.printStackTrace(err);
        }
        err.flush();
        return EXIT_FAILURE;
    }

    private static String describe(Exception ex) {
        return switch (ex) {
            case CliException e -> e.getMessage();
            case ConfigException e -> e.getMessage();
            case StoreException.Unavailable e -> "ZooKeeper is unavailable: " + e.getMessage();
            case StoreException.VersionConflict e -> e.getMessage() + " (someone else changed the cluster; retry)";
            case StoreException e -> e.getMessage();
            case BarrierTimeoutException e -> e.getMessage();
            case io.shardgate.migrator.HotKeyOperator.HotKeyException e -> e.getMessage();
            case InterruptedException e -> "interrupted";
            default -> "unexpected " + ex.getClass().getName() + ": " + ex.getMessage()
                    + " (run with --verbose for the stack trace)";
        };
    }

    static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "failed without a message";
        }
        return message.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    private static boolean verbose(ParseResult parseResult) {
        for (ParseResult pr = parseResult; pr != null; pr = pr.subcommand()) {
            if (pr.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
