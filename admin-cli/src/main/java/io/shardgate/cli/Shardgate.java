package io.shardgate.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code shardgate}: the command line of a Shardgate cluster. */
@Command(name = "shardgate",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        scope = ScopeType.INHERIT,
        usageHelpAutoWidth = true,
        description = "Administers a Shardgate cluster: its definition, slot map, live proxies and migrations in ZooKeeper.",
        subcommands = {
            ClusterCommand.class,
            StatusCommand.class,
            SlotsCommand.class,
            ShardCommand.class,
            TableCommand.class,
            SequenceCommand.class,
            ReshardCommand.class,
            HotKeyCommand.class,
            ZooKeeperCommand.class,
            DemoCommand.class,
            ProxyCommand.class,
            MigratorCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Shardgate implements Callable<Integer> {

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces of failures.")
    boolean verbose;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ErrorHandler.EXIT_USAGE;
    }

    /** A configured command line writing to {@code out} and {@code err}; tests run it in-process. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        ErrorHandler errors = new ErrorHandler();
        CommandLine cl = new CommandLine(new Shardgate());
        // only on the top-level help (a footer in @Command would be inherited by every subcommand)
        cl.getCommandSpec().usageMessage().footer("", "Start here: bin/shardgate demo   (then, in another terminal: bin/shardgate status)");
        return cl
                .setOut(out)
                .setErr(err)
                .setParameterExceptionHandler(errors)
                .setExecutionExceptionHandler(errors);
    }

    public static void main(String[] args) {
        int status = commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true)).execute(args);
        System.exit(status);
    }
}
