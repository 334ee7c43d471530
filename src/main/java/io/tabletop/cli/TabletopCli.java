package io.tabletop.cli;

import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.EngineProvider;
import io.tabletop.planner.PlanRefusedException;
import io.tabletop.service.AppPaths;
import io.tabletop.service.LogSetup;
import io.tabletop.service.PrivateData;
import io.tabletop.store.FormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The command line: the same services as the console, for scripts. Exit 0 on success; 1 with a one-line
 * reason on any failure; 2 for a usage error. Detail goes to the log file, never a stack trace. One class
 * per subcommand; the engines' local-cluster commands and the benchmarks are added from the context.
 */
@Command(name = "tabletop", mixinStandardHelpOptions = true, versionProvider = TabletopCli.Version.class,
        description = "Take tablet servers out of a cluster without losing a byte or a minute of availability.%n"
                + "With no command, the console opens.")
public final class TabletopCli implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger(TabletopCli.class.getName());

    /** The subcommands by name, in the order help lists them (the local-cluster commands and bench follow). */
    private static final Map<String, Class<?>> COMMANDS = commands();

    private static Map<String, Class<?>> commands() {
        Map<String, Class<?>> m = new LinkedHashMap<>();
        for (Class<?> c : List.of(SnapshotCmd.class, PlanCmd.class, ReviewCmd.class, ApplyCmd.class, RunsCmd.class,
                ResumeCmd.class, RestoreCmd.class, AuditCmd.class)) {
            m.put(c.getAnnotation(Command.class).name(), c);
        }
        return m;
    }

    final CliContext context;
    /** When the operator launched this command: the timeline of a run it starts counts from here. */
    final Instant launchedAt;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    TabletopCli(CliContext context, Instant launchedAt) {
        this.context = context;
        this.launchedAt = launchedAt;
    }

    /** Runs the command line and returns the exit code; launched now. */
    public static int run(CliContext context, String[] args, PrintWriter out, PrintWriter err) {
        return run(context, args, out, err, Instant.now());
    }

    /** Runs the command line launched at {@code launchedAt} (a process's start), and returns the exit code. */
    public static int run(CliContext context, String[] args, PrintWriter out, PrintWriter err, Instant launchedAt) {
        LogSetup.init();
        for (String open : PrivateData.tooOpenNotReported()) {
            LOG.warning(open);
            err.println("tabletop: warning: " + open);
        }
        CommandLine cl = new CommandLine(new TabletopCli(context, launchedAt));
        // picocli reads every subcommand's options by reflection when it is added: a command names its
        // subcommand first, and only that one is built (about 0.1 s of a run's start); help and a name
        // picocli should correct get them all.
        String first = args.length > 0 ? args[0] : "";
        boolean all = !COMMANDS.containsKey(first) && !first.equals(BenchCmds.NAME) && context.connections().registry().providers()
                .stream().filter(p -> p.localClusters().isPresent()).noneMatch(p -> first.equals(LocalClusterCmds.name(p)));
        COMMANDS.forEach((name, c) -> {
            if (all || name.equals(first)) {
                cl.addSubcommand(name, c);
            }
        });
        for (EngineProvider p : context.connections().registry().providers()) {
            p.localClusters().ifPresent(local -> {
                if (all || first.equals(LocalClusterCmds.name(p))) {
                    cl.addSubcommand(LocalClusterCmds.build(p, local));
                }
            });
        }
        if (all || first.equals(BenchCmds.NAME)) {
            cl.addSubcommand(BenchCmds.build(context.benchmarks()));
        }
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            LOG.log(Level.WARNING, "command failed", e);
            String msg = e instanceof UserError || e instanceof FormatException || e instanceof IllegalArgumentException
                    || e instanceof IOException || e instanceof ConnectorException || e instanceof PlanRefusedException
                    ? e.getMessage() : "unexpected error: " + e + " (details in " + AppPaths.logFile() + ")";
            line.getErr().println("tabletop: " + msg);
            line.getErr().flush();
            return 1;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** An error the operator can act on; its message is the whole story. */
    static final class UserError extends Exception {
        UserError(String message) {
            super(message);
        }
    }

    /** The version from pom.xml. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"tabletop " + io.tabletop.store.BuildInfo.version()};
        }
    }
}
