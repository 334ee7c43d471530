package io.tabletop.cli;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.planner.Goal;
import io.tabletop.planner.Planner;
import io.tabletop.planner.Rebalance;
import io.tabletop.planner.RemoveServers;
import io.tabletop.planner.Restore;
import io.tabletop.planner.ScaleOut;
import io.tabletop.service.Connections;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.FormatException;
import io.tabletop.store.SnapshotJson;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Options several subcommands share. */
final class Options {
    private Options() {
    }

    /** Which cluster to talk to. */
    static class Connect {
        @Option(names = "--connect", required = true, paramLabel = "SPEC",
                description = "the cluster: sandbox, sandbox:FIXTURE[:instant], or an engine's spec (tabletop --help lists them)")
        String connect;
    }

    /** A snapshot file, or - for standard input. */
    static ClusterSnapshot readSnapshot(String file) throws IOException, FormatException {
        return file.equals("-")
                ? SnapshotJson.read(io.tabletop.store.JsonText.decode(System.in.readNBytes((int) io.tabletop.store.JsonText.MAX_BYTES), "standard input", "snapshot"),
                "standard input")
                : SnapshotJson.read(Path.of(file));
    }

    /** The goal and its knobs. */
    static class Plan {
        @Option(names = "--remove", split = ",", paramLabel = "ID", description = "servers to remove, by id or address")
        List<String> remove;

        @Option(names = "--rebalance", description = "even the cluster out (per table, then totals, then leaders)")
        boolean rebalance;

        @Option(names = "--max-moves", paramLabel = "N", description = "with --rebalance: at most N replica moves (default: as many as help)")
        Integer maxMoves;

        @Option(names = "--scale-out", split = ",", paramLabel = "ID", description = "new servers to move replicas and leaders onto until balanced")
        List<String> scaleOut;

        @Option(names = "--restore-to", paramLabel = "FILE", description = "put replicas and leaders back as in this snapshot (a run's snapshot-before.json)")
        Path restoreTo;

        @Option(names = "--balance-leaders", negatable = true,
                description = "end with leader transfers that even leaders out (default: on; off on OpenMLDB, where each "
                        + "leader change is a moment in which writes can be lost)")
        Boolean balanceLeaders;

        @Option(names = "--fill-limit", defaultValue = "0.85", description = "destinations stay below this fraction of capacity (default: ${DEFAULT-VALUE})")
        double fillLimit;

        @Option(names = "--max-moves-per-server", paramLabel = "N|auto", defaultValue = "",
                description = "concurrent moves per server: a number, or auto (start at the engine's default and follow the cluster: "
                        + "more while moves keep their pace, fewer when they slow down or health degrades, never above --max-moves-ceiling) "
                        + "(default: the engine's)")
        String maxMovesPerServer;

        @Option(names = "--max-moves-ceiling", paramLabel = "N", defaultValue = "0",
                description = "with --max-moves-per-server auto: never more than N moves per server (default: twice the engine's default)")
        int ceiling;

        @Option(names = "--replace-dead-copies", description = "when a server dies during the run, drop its copies from their "
                + "tablets' configs at once (audited), so that the engine rebuilds them now instead of after its own timeout "
                + "(five minutes by default on some engines). Until they are rebuilt those tablets have one copy "
                + "fewer: one more failure makes them unavailable. Default: wait for the engine")
        boolean replaceDeadCopies;

        @Option(names = "--strategy", defaultValue = "tabletop",
                description = "tabletop (every move planned and previewed; where the engine moves data only in its own rebalance, "
                        + "that rebalance with Tabletop's forecast), engine (the engine's own drain, where it has one), or failover-first "
                        + "(where the engine fails servers over gracefully: that first, then its rebalance) (default: ${DEFAULT-VALUE})")
        String strategy;

        /** What --max-moves-per-server and --max-moves-ceiling say: a fixed number (0: the engine's), or adaptive. */
    record Concurrency(int fixed, boolean auto, int ceiling) {
        static Concurrency parse(String perServer, int ceiling) throws TabletopCli.UserError {
            String v = perServer == null ? "" : perServer.strip();
            if (ceiling < 0) {
                throw new TabletopCli.UserError("--max-moves-ceiling must be a positive number, not " + ceiling);
            }
            if (v.equalsIgnoreCase("auto")) {
                return new Concurrency(0, true, ceiling);
            }
            if (ceiling > 0) {
                throw new TabletopCli.UserError("--max-moves-ceiling goes with --max-moves-per-server auto");
            }
            if (v.isEmpty()) {
                return new Concurrency(0, false, 0);
            }
            try {
                int n = Integer.parseInt(v);
                if (n < 1) {
                    throw new NumberFormatException();
                }
                return new Concurrency(n, false, 0);
            } catch (NumberFormatException e) {
                throw new TabletopCli.UserError("--max-moves-per-server takes a number of at least 1, or auto; not '" + v + "'");
            }
        }

        ExecutorOptions options(EngineCapabilities engine) throws TabletopCli.UserError {
            int start = fixed > 0 ? fixed : engine.maxMovesPerServer();
            ExecutorOptions o = new ExecutorOptions(start, 3, Duration.ofSeconds(2));
            if (!auto) {
                return o;
            }
            int top = ceiling > 0 ? ceiling : 2 * start;
            if (top < start) {
                throw new TabletopCli.UserError("--max-moves-ceiling " + top + " is below the engine's default of " + start
                        + " moves per server, where auto starts");
            }
            return o.withCeiling(top);
        }
    }

    /** The plan for {@code s} by its engine's rules, for the commands that plan a saved snapshot (plan, review). */
        io.tabletop.planner.Plan planOffline(ClusterSnapshot s, Connections connections) throws Exception {
            EngineCapabilities caps = connections.capabilitiesFor(s.engine());
            Goal goal = goal(s, caps);
            EngineCapabilities withMoves = capabilities(caps);
            Planner.refuseUnplannable(s);
            java.util.Optional<io.tabletop.domain.CheckResult> leaderless = Planner.leaderless(s);
            if (leaderless.isPresent()) {
                throw new io.tabletop.planner.PlanRefusedException(List.of(leaderless.get()));
            }
            try {
                return new Planner().plan(s, goal, withMoves);
            } catch (IllegalStateException e) {
                // the planner's own safety net tripped on this snapshot: said as a refusal, not an unexpected error
                throw new io.tabletop.planner.PlanRefusedException(List.of(io.tabletop.domain.CheckResult.block("Plan",
                        "no safe plan from this snapshot: " + e.getMessage())));
            }
        }

        EngineCapabilities capabilities(EngineCapabilities engine) throws TabletopCli.UserError {
            int fixed = Concurrency.parse(maxMovesPerServer, ceiling).fixed();
            return fixed > 0 ? engine.withMaxMovesPerServer(fixed) : engine;
        }

        /** How the run's moves per server are bounded, on an engine whose default is {@code engine}. */
        ExecutorOptions executorOptions(EngineCapabilities engine) throws TabletopCli.UserError {
            return Concurrency.parse(maxMovesPerServer, ceiling).options(engine).withReplaceDeadCopies(replaceDeadCopies);
        }

        /** The goal, leader balance as asked or, when not asked, as the engine's default ({@link EngineCapabilities#leaderBalanceDefault}). */
        Goal goal(ClusterSnapshot s, EngineCapabilities caps) throws TabletopCli.UserError {
            boolean balanceLeaders = this.balanceLeaders != null ? this.balanceLeaders : caps.leaderBalanceDefault();
            int goals = (remove != null ? 1 : 0) + (rebalance ? 1 : 0) + (scaleOut != null ? 1 : 0) + (restoreTo != null ? 1 : 0);
            if (goals != 1) {
                throw new TabletopCli.UserError("name one goal: --remove IDS, --rebalance [--max-moves N], --scale-out IDS or --restore-to FILE");
            }
            if (restoreTo != null) {
                try {
                    return new Restore(SnapshotJson.read(restoreTo), "the placement in " + restoreTo);
                } catch (IOException e) {
                    throw new TabletopCli.UserError("cannot read " + restoreTo + ": " + e.getMessage());
                } catch (FormatException e) {
                    throw new TabletopCli.UserError(e.getMessage());
                }
            }
            if (maxMoves != null && (!rebalance || maxMoves < 0)) {
                throw new TabletopCli.UserError("--max-moves goes with --rebalance and must be 0 or more");
            }
            if (rebalance) {
                return new Rebalance(maxMoves == null ? Integer.MAX_VALUE : maxMoves, balanceLeaders);
            }
            if (scaleOut != null) {
                return new ScaleOut(RemovalService.resolve(s, scaleOut), balanceLeaders);
            }
            RemoveServers.Strategy st = switch (strategy) {
                case "tabletop" -> RemoveServers.Strategy.TABLETOP;
                case "engine" -> RemoveServers.Strategy.ENGINE;
                case "failover-first" -> RemoveServers.Strategy.FAILOVER_FIRST;
                default -> throw new TabletopCli.UserError("--strategy must be tabletop, engine or failover-first, was '" + strategy + "'");
            };
            return new RemoveServers(RemovalService.resolve(s, remove), balanceLeaders, fillLimit, st);
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
                throw new TabletopCli.UserError("name the run " + what + " (tabletop runs lists them), or --latest");
            }
            Runs.RunInfo info;
            try {
                info = runs.find(latest ? "latest" : runId);
            } catch (Runs.NoSuchRunException e) {
                throw new TabletopCli.UserError(e.getMessage());
            }
            var rec = info.record();
            if (!Runs.outlivesProcess(rec)) {
                throw new TabletopCli.UserError("run " + rec.runId() + " ran on a sandbox, which lived in the process that ran it; "
                        + "there is nothing left to " + (what.startsWith("to resume") ? "resume" : "restore"));
            }
            return info;
        }
    }
}
