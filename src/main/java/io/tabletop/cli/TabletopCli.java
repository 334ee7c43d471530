package io.tabletop.cli;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Step;
import io.tabletop.domain.Units;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.PlanRefusedException;
import io.tabletop.planner.Planner;
import io.tabletop.planner.Goal;
import io.tabletop.planner.Rebalance;
import io.tabletop.planner.RemoveServers;
import io.tabletop.planner.ScaleOut;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Connections;
import io.tabletop.service.LogSetup;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.FormatException;
import io.tabletop.store.PlanJson;
import io.tabletop.store.SnapshotJson;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The command line: the same services as the console, for scripts. Exit 0 on success; 1 with a one-line
 * reason on any failure; 2 for a usage error. Detail goes to the log file, never a stack trace.
 */
@Command(name = "tabletop", mixinStandardHelpOptions = true, version = "tabletop 0.1.0",
        description = "Take tablet servers out of a cluster without losing a byte or a minute of availability.%n"
                + "With no command, the console opens.",
        subcommands = {TabletopCli.SnapshotCmd.class, TabletopCli.PlanCmd.class, TabletopCli.ReviewCmd.class, TabletopCli.ApplyCmd.class, TabletopCli.RunsCmd.class,
                TabletopCli.ResumeCmd.class, TabletopCli.RestoreCmd.class, TabletopCli.AuditCmd.class, LocalKuduCmd.class, BenchCmd.class})
public final class TabletopCli implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger(TabletopCli.class.getName());

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Runs the command line and returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        LogSetup.init();
        CommandLine cl = new CommandLine(new TabletopCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            LOG.log(Level.WARNING, "command failed", e);
            String msg = e instanceof UserError || e instanceof FormatException || e instanceof IllegalArgumentException
                    || e instanceof java.io.IOException
                    || e instanceof ConnectorException || e instanceof PlanRefusedException
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

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
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

    // ---- snapshot ------------------------------------------------------------------------------

    @Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Write the cluster's snapshot JSON.")
    static final class SnapshotCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        ConnectOption target = new ConnectOption();

        @Option(names = "--out", paramLabel = "FILE", description = "write here instead of standard output")
        Path out;

        @Override
        public Integer call() throws Exception {
            try (ClusterConnector c = Connections.open(target.connect)) {
                ClusterSnapshot s = c.snapshot();
                if (out == null) {
                    spec.commandLine().getOut().println(SnapshotJson.write(s));
                } else {
                    SnapshotJson.write(s, out);
                    spec.commandLine().getErr().println("wrote " + out + " (" + s.servers().size() + " servers, "
                            + s.partitions().size() + " partitions)");
                }
            }
            return 0;
        }
    }

    // ---- plan ------------------------------------------------------------------------------------

    /** Which cluster to talk to. */
    static class ConnectOption {
        @Option(names = "--connect", required = true, paramLabel = "SPEC",
                description = "sandbox, sandbox:FIXTURE[:instant], kudu://HOST:PORT[,HOST:PORT...][?web=HOST:PORT,...]")
        String connect;
    }

    static class PlanOptions {
        @Option(names = "--remove", split = ",", paramLabel = "ID", description = "servers to remove, by id or address")
        List<String> remove;

        @Option(names = "--rebalance", description = "even the cluster out (per table, then totals, then leaders), as kudu cluster rebalance does")
        boolean rebalance;

        @Option(names = "--max-moves", paramLabel = "N", description = "with --rebalance: at most N replica moves (default: as many as help)")
        Integer maxMoves;

        @Option(names = "--scale-out", split = ",", paramLabel = "ID", description = "new servers to move replicas and leaders onto until balanced")
        List<String> scaleOut;

        @Option(names = "--restore-to", paramLabel = "FILE", description = "put replicas and leaders back as in this snapshot (a run's snapshot-before.json)")
        Path restoreTo;

        @Option(names = "--no-balance-leaders", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "end with leader transfers that even leaders out (default: on)")
        boolean balanceLeaders = true;

        @Option(names = "--fill-limit", defaultValue = "0.85", description = "destinations stay below this fraction of capacity (default: ${DEFAULT-VALUE})")
        double fillLimit;

        @Option(names = "--max-moves-per-server", defaultValue = "0", description = "concurrent moves per server (default: the engine's)")
        int maxMovesPerServer;

        @Option(names = "--strategy", defaultValue = "tabletop",
                description = "tabletop (every move planned and previewed) or engine (Kudu: cluster rebalance --ignored_tservers) (default: ${DEFAULT-VALUE})")
        String strategy;

        Goal goal(ClusterSnapshot s) throws UserError {
            int goals = (remove != null ? 1 : 0) + (rebalance ? 1 : 0) + (scaleOut != null ? 1 : 0) + (restoreTo != null ? 1 : 0);
            if (goals != 1) {
                throw new UserError("name one goal: --remove IDS, --rebalance [--max-moves N], --scale-out IDS or --restore-to FILE");
            }
            if (restoreTo != null) {
                try {
                    return new io.tabletop.planner.Restore(SnapshotJson.read(restoreTo), "the placement in " + restoreTo);
                } catch (java.io.IOException e) {
                    throw new UserError("cannot read " + restoreTo + ": " + e.getMessage());
                } catch (FormatException e) {
                    throw new UserError(e.getMessage());
                }
            }
            if (maxMoves != null && (!rebalance || maxMoves < 0)) {
                throw new UserError("--max-moves goes with --rebalance and must be 0 or more");
            }
            if (rebalance) {
                return new Rebalance(maxMoves == null ? Integer.MAX_VALUE : maxMoves, balanceLeaders);
            }
            if (scaleOut != null) {
                return new ScaleOut(RemovalService.resolve(s, scaleOut), balanceLeaders);
            }
            RemoveServers.Strategy st = switch (strategy) {
                case "tabletop" -> RemoveServers.Strategy.TABLETOP;
                case "engine", "kudu-rebalancer" -> RemoveServers.Strategy.ENGINE;
                default -> throw new UserError("--strategy must be tabletop or engine, was '" + strategy + "'");
            };
            return new RemoveServers(RemovalService.resolve(s, remove), balanceLeaders, fillLimit, st);
        }
    }

    @Command(name = "plan", mixinStandardHelpOptions = true, description = "Plan a removal, rebalance or scale-out against a saved snapshot; nothing runs.")
    static final class PlanCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--snapshot", required = true, paramLabel = "FILE", description = "snapshot JSON, or - for standard input")
        String snapshot;

        @Option(names = "--format", defaultValue = "text", description = "json or text (default: ${DEFAULT-VALUE})")
        String format;

        @CommandLine.Mixin
        PlanOptions options = new PlanOptions();

        @Override
        public Integer call() throws Exception {
            if (!format.equals("json") && !format.equals("text")) {
                throw new UserError("--format must be json or text, was '" + format + "'");
            }
            ClusterSnapshot s = snapshot.equals("-")
                    ? SnapshotJson.read(new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), "standard input")
                    : SnapshotJson.read(Path.of(snapshot));
            var caps = Connections.capabilitiesFor(s.engine());
            if (options.maxMovesPerServer > 0) {
                caps = caps.withMaxMovesPerServer(options.maxMovesPerServer);
            }
            Plan plan = new Planner().plan(s, options.goal(s), caps);
            PrintWriter out = spec.commandLine().getOut();
            out.println(format.equals("json") ? PlanJson.write(plan) : PlanText.render(plan));
            return 0;
        }
    }

    @Command(name = "review", mixinStandardHelpOptions = true,
            description = "Write the change-review bundle (review.md, review.html, plan.json, snapshots) for a plan against a saved snapshot.")
    static final class ReviewCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--snapshot", required = true, paramLabel = "FILE", description = "snapshot JSON, or - for standard input")
        String snapshot;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory to write the bundle into")
        Path out;

        @Option(names = "--no-images", description = "skip rendering the views as PNG images")
        boolean noImages;

        @CommandLine.Mixin
        PlanOptions options = new PlanOptions();

        @Override
        public Integer call() throws Exception {
            ClusterSnapshot s = snapshot.equals("-")
                    ? SnapshotJson.read(new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), "standard input")
                    : SnapshotJson.read(Path.of(snapshot));
            var caps = Connections.capabilitiesFor(s.engine());
            if (options.maxMovesPerServer > 0) {
                caps = caps.withMaxMovesPerServer(options.maxMovesPerServer);
            }
            Plan plan = new Planner().plan(s, options.goal(s), caps);
            var renderer = io.tabletop.service.ReviewImages.registered();
            if (renderer.isPresent() && !noImages) {
                java.nio.file.Files.createDirectories(out);
                for (var e : renderer.get().render(plan).entrySet()) {
                    java.nio.file.Files.write(out.resolve(e.getKey()), e.getValue());
                }
            }
            List<java.nio.file.Path> files = io.tabletop.service.ReviewBundle.write(out, new io.tabletop.service.ReviewBundle.Review(plan,
                    plan.checks(), System.getProperty("user.name", "unknown"), java.time.Instant.now(), null));
            PrintWriter w = spec.commandLine().getOut();
            files.forEach(f -> w.println("wrote " + f));
            return 0;
        }
    }

    // ---- apply -----------------------------------------------------------------------------------

    @Command(name = "apply", mixinStandardHelpOptions = true, description = "Pre-check, plan and run a removal, rebalance or scale-out on a live cluster.")
    static final class ApplyCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        ConnectOption target = new ConnectOption();

        @Option(names = "--yes", description = "run without asking (required: there is no prompt)")
        boolean yes;

        @Option(names = "--stop-local", description = "Kudu: the local cluster (tabletop local-kudu start) stops the tablet servers; "
                + "without it the run waits for the operator to stop each one")
        boolean stopLocal;

        @CommandLine.Mixin
        PlanOptions options = new PlanOptions();

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            if (!yes) {
                throw new UserError("apply changes the cluster: review the plan (tabletop plan ...), then add --yes");
            }
            RemovalService service = new RemovalService();
            String connect = target.connect;
            if (stopLocal && !connect.startsWith("kudu://")) {
                throw new UserError("--stop-local goes with a kudu:// connection");
            }
            try (ClusterConnector c = connect.startsWith("kudu://") ? Connections.openKudu(connect, stopLocal) : Connections.open(connect)) {
                ClusterSnapshot s = c.snapshot();
                RemovalService.PreCheck pre = service.preCheck(c, options.goal(s));
                printChecks(out, pre.checks(), pre.plan() == null, "refused");
                Plan plan = pre.plan();
                out.println(PlanText.summary(plan));
                int per = options.maxMovesPerServer > 0 ? options.maxMovesPerServer : c.capabilities().maxMovesPerServer();
                Runs runs = new Runs();
                Runs.Run run = runs.start(plan, c, connect, stopLocal, new ExecutorOptions(per, 3, Duration.ofSeconds(2)),
                        printer(out, plan.steps().size()), null);
                out.println("Run " + run.runId() + " (journal " + run.journal().dir() + "); if this process stops, "
                        + "continue with: tabletop resume " + run.runId());
                out.flush();
                finish(out, service, plan, c, run);
            }
            return 0;
        }
    }

    /** Prints the checks; when {@code refused}, fails with the first blocking one. */
    static void printChecks(PrintWriter out, List<CheckResult> checks, boolean refused, String what) throws UserError {
        for (CheckResult check : checks) {
            out.println(PlanText.check(check));
        }
        if (refused) {
            throw new UserError(what + ": " + checks.stream().filter(k -> k.verdict() == Verdict.BLOCK)
                    .map(k -> k.name() + ": " + k.message()).findFirst().orElse("a check blocks"));
        }
    }

    /** Prints each step as it ends, actions the operator must take, and warnings. */
    static ExecutionListener printer(PrintWriter out, int total) {
        return new ExecutionListener() {
            private final java.util.Set<Integer> told = java.util.concurrent.ConcurrentHashMap.newKeySet();

            @Override
            public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                if (to.isTerminal() && from != StepState.PENDING) {
                    synchronized (out) {
                        out.printf(Locale.ROOT, "[%4d/%d] %-9s %s%s%n", step.index() + 1, total, to.name(), step.describe(),
                                message.isEmpty() ? "" : " — " + message);
                        out.flush();
                    }
                }
            }

            @Override
            public void stepProgress(Step step, double fraction, String message) {
                if (step.type() == io.tabletop.domain.StepType.STOP_SERVER && fraction < 0 && told.add(step.index())) {
                    synchronized (out) {
                        out.println("ACTION    " + message);
                        out.flush();
                    }
                }
            }

            @Override
            public void log(Level level, String message) {
                if (level != Level.INFO) {
                    synchronized (out) {
                        out.println(level + " " + message);
                        out.flush();
                    }
                }
            }
        };
    }

    /** Waits for the run, prints the post-checks and the outcome; a run that did not succeed is an error. */
    static void finish(PrintWriter out, RemovalService service, Plan plan, ClusterConnector c, Runs.Run run) throws Exception {
        RunResult result = run.done().get();
        for (CheckResult check : service.postChecks(plan, c)) {
            out.println(PlanText.check(check));
        }
        out.printf(Locale.ROOT, "%s in %s: %d of %d steps succeeded%n", result.state(), Units.duration(result.seconds()),
                result.count(StepState.SUCCEEDED), plan.steps().size());
        if (result.state() != RunState.SUCCEEDED) {
            long moved = result.steps().stream().filter(o -> o.state() == StepState.SUCCEEDED
                    && o.step().type() == io.tabletop.domain.StepType.MOVE_REPLICA).count();
            long notRun = result.steps().stream().filter(o -> o.state() == StepState.CANCELLED || o.state() == StepState.SKIPPED).count();
            out.printf(Locale.ROOT, "Done: %d replica move(s) of %d; not run: %d step(s). Nothing is lost: every partition keeps its copies.%n",
                    moved, plan.summary().replicaMoves(), notRun);
            out.println("To go on: tabletop resume " + run.runId() + " --yes");
            out.println("To put everything back: tabletop restore " + run.runId() + " (previews; add --yes to run it)");
            out.flush();
            RunResult.StepOutcome first = result.failures().stream().findFirst().orElse(null);
            throw new UserError("run " + run.runId() + " " + result.state().name().toLowerCase(Locale.ROOT)
                    + (first == null ? "" : ": step " + (first.step().index() + 1) + " " + first.step().describe() + ": " + first.message())
                    + "; continue it with: tabletop resume " + run.runId());
        }
    }

    // ---- runs, resume, audit ----------------------------------------------------------------------

    @Command(name = "runs", mixinStandardHelpOptions = true, description = "List recorded runs and their state (newest first).")
    static final class RunsCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--format", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE})")
        String format;

        @Override
        public Integer call() throws Exception {
            if (!format.equals("json") && !format.equals("text")) {
                throw new UserError("--format must be json or text, was '" + format + "'");
            }
            Runs runs = new Runs();
            List<String> problems = new java.util.ArrayList<>();
            List<Runs.RunInfo> all = runs.list(problems);
            PrintWriter out = spec.commandLine().getOut();
            if (format.equals("json")) {
                out.println(io.tabletop.store.RunJournal.toJson(all.stream().map(Runs.RunInfo::record).toList(),
                        all.stream().map(Runs.RunInfo::state).toList()));
            } else {
                out.printf(Locale.ROOT, "%-25s %-20s %-12s %-9s %-8s %s%n", "RUN", "STARTED (UTC)", "STATE", "STEPS OK", "ATTEMPTS", "CLUSTER / GOAL");
                for (Runs.RunInfo r : all) {
                    var rec = r.record();
                    out.printf(Locale.ROOT, "%-25s %-20s %-12s %-9s %-8d %s: %s%n", rec.runId(),
                            rec.startedAt().toString().replace('T', ' ').substring(0, 19), r.state(), rec.succeeded(),
                            rec.attempts(), rec.cluster(), rec.goalSummary());
                }
                if (all.isEmpty()) {
                    out.println("(no runs yet in " + runs.runsDir() + ")");
                }
            }
            for (String p : problems) {
                spec.commandLine().getErr().println("tabletop: skipped unreadable run " + p);
            }
            return 0;
        }
    }

    /** Which recorded run a command is about: its id (or a unique prefix), or the newest. */
    static class RunChoice {
        @CommandLine.Parameters(arity = "0..1", paramLabel = "RUN_ID", description = "the run (or a unique prefix of its id)")
        String runId;

        @Option(names = "--latest", description = "the newest run")
        boolean latest;

        /** The run, which must not have run on a sandbox (its cluster lived in the process that ran it). */
        Runs.RunInfo find(Runs runs, String what) throws Exception {
            if ((runId == null) == !latest) {
                throw new UserError("name the run " + what + " (tabletop runs lists them), or --latest");
            }
            Runs.RunInfo info;
            try {
                info = runs.find(latest ? "latest" : runId);
            } catch (Runs.NoSuchRunException e) {
                throw new UserError(e.getMessage());
            }
            var rec = info.record();
            if (rec.engine().equals("sandbox") || rec.connect().toLowerCase(Locale.ROOT).startsWith("sandbox")) {
                throw new UserError("run " + rec.runId() + " ran on a sandbox, which lived in the process that ran it; "
                        + "there is nothing left to " + (what.startsWith("to resume") ? "resume" : "restore"));
            }
            return info;
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Continue an interrupted run: read the live cluster, check the journal against it, plan what is left, run it.")
    static final class ResumeCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        RunChoice choice = new RunChoice();

        @Option(names = "--yes", description = "run without asking (required: there is no prompt)")
        boolean yes;

        @Option(names = "--max-moves-per-server", defaultValue = "0", description = "concurrent moves per server (default: the engine's)")
        int maxMovesPerServer;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Runs runs = new Runs();
            Runs.RunInfo info = choice.find(runs, "to resume");
            var rec = info.record();
            String connect = rec.connect();
            out.println("Run " + rec.runId() + " on " + rec.cluster() + " (" + connect + "), " + info.state() + ", started "
                    + rec.startedAt() + " by " + rec.user());
            RemovalService service = new RemovalService();
            try (ClusterConnector c = connect.startsWith("kudu://") ? Connections.openKudu(connect, rec.stopLocal()) : Connections.open(connect)) {
                Runs.Resume r = runs.prepareResume(info, c);
                printChecks(out, r.checks(), r.blocked(), "cannot resume");
                if (r.plan() == null) {
                    runs.markDone(info, "nothing left to do: " + r.alreadyDone() + " step(s) were done before the run stopped");
                    out.println("Nothing left to do; run " + rec.runId() + " is marked SUCCEEDED");
                    return 0;
                }
                out.println(PlanText.summary(r.plan()));
                if (!yes) {
                    throw new UserError("resume changes the cluster: review the above (or tabletop plan), then add --yes");
                }
                int per = maxMovesPerServer > 0 ? maxMovesPerServer : c.capabilities().maxMovesPerServer();
                Runs.Run run = runs.resume(r, c, new ExecutorOptions(per, 3, Duration.ofSeconds(2)), printer(out, r.plan().steps().size()), null);
                finish(out, service, r.plan(), c, run);
            }
            return 0;
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Plan (and with --yes run) putting replicas and leaders back as they were before a run.")
    static final class RestoreCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        RunChoice choice = new RunChoice();

        @Option(names = "--yes", description = "run the restore (without it: preview only)")
        boolean yes;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Runs runs = new Runs();
            Runs.RunInfo info = choice.find(runs, "whose placement to restore");
            var rec = info.record();
            if (info.state().equals("RUNNING")) {
                throw new UserError("run " + rec.runId() + " is still running; cancel it first");
            }
            ClusterSnapshot target = io.tabletop.store.RunJournal.snapshotBefore(rec.dir());
            String connect = rec.connect();
            RemovalService service = new RemovalService();
            try (ClusterConnector c = connect.startsWith("kudu://") ? Connections.openKudu(connect, false) : Connections.open(connect)) {
                RemovalService.PreCheck pre = service.preCheck(c, new io.tabletop.planner.Restore(target,
                        "the placement before run " + rec.runId()));
                printChecks(out, pre.checks(), pre.plan() == null, "cannot restore");
                Plan plan = pre.plan();
                if (!yes) {
                    out.println(PlanText.render(plan));
                    out.println("Preview only; add --yes to run it.");
                    return 0;
                }
                out.println(PlanText.summary(plan));
                Runs.Run run = runs.start(plan, c, connect, false, ExecutorOptions.defaults(c.capabilities().maxMovesPerServer()),
                        printer(out, plan.steps().size()), null);
                out.println("Run " + run.runId() + " (journal " + run.journal().dir() + ")");
                finish(out, service, plan, c, run);
            }
            return 0;
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, description = "Check the audit log's hash chain.")
    static final class AuditCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            java.nio.file.Path file = new Runs().audit().file();
            int n = io.tabletop.store.AuditLog.count(file);
            var broken = io.tabletop.store.AuditLog.verify(file);
            if (broken.isPresent()) {
                throw new UserError(file + ": the hash chain breaks at " + broken.get());
            }
            spec.commandLine().getOut().println(file + ": " + n + " record(s), hash chain intact");
            return 0;
        }
    }
}
