package io.tabletop.bench;

import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.kudu.KuduBinary;
import io.tabletop.connector.kudu.KuduCli;
import io.tabletop.connector.kudu.KuduConnector;
import io.tabletop.connector.kudu.LocalKuduCluster;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Benchmark;
import io.tabletop.service.Operation;
import io.tabletop.service.RemovalService;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scale-out on two identical fresh local clusters (4 tservers with tables of 24, 20 and 16 tablets at
 * RF 3, with rows, then one more tserver): Tabletop's scale-out against {@code kudu cluster rebalance},
 * which Kudu's docs prescribe after adding a tserver (at its default of 5 moves per tserver). Tabletop runs at a
 * fixed 5 and in its adaptive mode (ceiling 10), each timed from its launch (the pre-check's first read, as
 * {@code apply} does it). Reports wall time, replica moves and the replica, table and leader skews left
 * behind. A benchmark, not a test.
 */
public final class KuduScaleOutBenchmark implements Benchmark {
    private static final int[] TABLES = {24, 20, 16};

    @Override
    public String name() {
        return "kudu-scale-out";
    }

    @Override
    public String description() {
        return "Add a tserver to two identical fresh local Kudu clusters and balance onto it: Tabletop vs kudu cluster rebalance.";
    }

    @Override
    public List<Option> options() {
        return List.of(new Option("rounds", "3", "pairs of clusters"), new Option("rows", "20000", "rows per table"));
    }

    @Override
    public void run(Map<String, String> options, PrintWriter out, PrintWriter err) throws Exception {
        int rounds = Benchmark.intOption(options, "rounds");
        int rows = Benchmark.intOption(options, "rows");
        List<Result> all = new ArrayList<>();
        for (int i = 1; i <= rounds; i++) {
            int round = i;
            Consumer<String> say = line -> {
                err.println("round " + round + ": " + line);
                err.flush();
            };
            KuduBinary binary = KuduBinary.locate(AppPaths.home().resolve("kudu"));
            for (int ceiling : new int[]{0, 10}) {
                try (LocalKuduCluster c = LocalKuduCluster.start(binary, null, 4)) {
                    c.loadTables(TABLES, rows, 3);
                    all.add(tabletop(KuduConnector.local(c), ceiling, say));
                }
            }
            try (LocalKuduCluster c = LocalKuduCluster.start(binary, null, 4)) {
                c.loadTables(TABLES, rows, 3);
                all.add(rebalancer(KuduConnector.local(c), say));
            }
        }
        out.println("| round | tool | wall s | moves | replicas on the new tserver | replica skew | leader skew | max table skew | rows before → after |");
        out.println("|---|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < all.size(); i++) {
            Result r = all.get(i);
            KuduDrainBenchmark.Side s = r.skews();
            out.println(String.format(Locale.ROOT, "| %d | %s | %.1f | %d | %d | %d | %d | %d | %d → %d |", i / 3 + 1, r.tool(),
                    r.seconds(), r.moves(), r.onNew(), s.replicaSkew(), s.leaderSkew(), s.tableSkew(), s.rowsBefore(), s.rowsAfter()));
        }
    }

    /** One side of one round: its time from launch, its moves, the replicas on the new tserver, and the skews after. */
    record Result(String tool, double seconds, int moves, int onNew, KuduDrainBenchmark.Side skews) {
    }

    private static ServerId added(KuduConnector kudu) throws ConnectorException {
        String address = kudu.addServer();
        ClusterSnapshot s = kudu.snapshot();
        return s.servers().stream().filter(x -> x.address().equals(address)).findFirst().orElseThrow().id();
    }

    private static Result tabletop(KuduConnector kudu, int ceiling, Consumer<String> say) throws Exception {
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        ServerId fresh = added(kudu);
        RemovalService service = new RemovalService();
        Operation op = Operation.scaleOut(List.of(fresh), List.of(fresh.value()));
        // as apply does it (apply --scale-out), like the drain benchmark: one read, rows counted while the run
        // starts (no replica moves before the count is in), the pre-check's verdict for the first gate
        long t0 = System.nanoTime();
        Instant launch = Instant.now();
        ClusterSnapshot before = kudu.snapshot();
        var counting = RemovalService.countRows(kudu, before);
        RemovalService.PreCheck p = service.preCheck(kudu, before, launch, op.goal(Operation.Options.defaults()), counting, false);
        if (p.plan() == null) {
            throw new IllegalStateException("pre-check blocked: " + p.checks());
        }
        long t1 = System.nanoTime();
        ExecutorOptions how = new ExecutorOptions(5, 3, Duration.ofSeconds(1)).withPrelude(p.prelude(launch));
        if (ceiling > 0) {
            how = how.withCeiling(ceiling);
        }
        String tool = ceiling > 0 ? "tabletop, adaptive (ceiling " + ceiling + ")" : "tabletop, 5 per tserver";
        AtomicLong lastMove = new AtomicLong(t1);
        AtomicLong firstStep = new AtomicLong();
        Map<Integer, Long> started = new ConcurrentHashMap<>();
        List<Double> moveSeconds = Collections.synchronizedList(new ArrayList<>());
        RunResult r = service.execution(p.plan(), kudu, how, new ExecutionListener() {
            @Override
            public void concurrencyChanged(int from, int to, String reason) {
                say.accept(tool + ": moves per server " + from + " → " + to + ": " + reason);
            }

            @Override
            public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                if (to == StepState.RUNNING && step.type() != StepType.HEALTH_GATE) {
                    firstStep.compareAndSet(0, System.nanoTime());
                    started.put(step.index(), System.nanoTime());
                }
                if (to == StepState.SUCCEEDED && step.type() == StepType.MOVE_REPLICA) {
                    long now = System.nanoTime();
                    lastMove.accumulateAndGet(now, Math::max);
                    moveSeconds.add((now - started.getOrDefault(step.index(), now)) / 1e9);
                }
            }
        }, null).start().get(30, TimeUnit.MINUTES);
        long t2 = System.nanoTime();
        double secs = (t2 - t0) / 1e9;
        say.accept(String.format(Locale.ROOT, "%s: pre-check and plan %.1f s; first move at %.1f s, last move done at %.1f s, "
                + "run ends at %.1f s (all from launch)", tool, (t1 - t0) / 1e9, (firstStep.get() - t0) / 1e9, (lastMove.get() - t0) / 1e9, secs));
        if (r.state() != RunState.SUCCEEDED) {
            throw new IllegalStateException("Tabletop run " + r.state() + ": " + r.failures());
        }
        int moves = p.plan().summary().replicaMoves();
        say.accept(String.format(Locale.ROOT, "%s: %d moves (each %s), %d leader transfers, %.1f s",
                tool, moves, spread(moveSeconds), p.plan().summary().leaderTransfers(), secs));
        ClusterSnapshot end = kudu.snapshot();
        int onNew = end.loads().get(fresh).replicas();
        say.accept("tabletop: replicas per tserver after: " + end.loads().values().stream().map(l -> l.server().value().substring(0, 6) + "=" + l.replicas()
                + (l.server().equals(fresh) ? " (new)" : "")).collect(Collectors.joining(", ")) + "; planned: " + p.plan().after().loads().values().stream()
                .map(l -> l.server().value().substring(0, 6) + "=" + l.replicas()).collect(Collectors.joining(", ")));
        return new Result(tool, secs, moves, onNew, KuduDrainBenchmark.side(tool, Double.NaN, secs, secs, moves, 0, kudu, null, rows));
    }

    private static Result rebalancer(KuduConnector kudu, Consumer<String> say) throws Exception {
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        ServerId fresh = added(kudu);
        KuduCli cli = kudu.cli();
        long t0 = System.nanoTime();
        Map<String, Long> scheduled = new ConcurrentHashMap<>();
        List<Double> moveSeconds = Collections.synchronizedList(new ArrayList<>());
        Pattern move = Pattern.compile("tablet (\\S+): .* move (scheduled|completed)");
        KuduCli.Result r = cli.stream(1_800_000, line -> {
            Matcher mm = move.matcher(line);
            if (mm.find()) {
                long now = System.nanoTime();
                if (mm.group(2).equals("scheduled")) {
                    scheduled.put(mm.group(1), now);
                } else {
                    Long at = scheduled.remove(mm.group(1));
                    if (at != null) {
                        moveSeconds.add((now - at) / 1e9);
                    }
                }
            }
        }, "cluster", "rebalance", "@MASTERS", "--max_moves_per_server=5");
        double secs = (System.nanoTime() - t0) / 1e9;
        if (!r.ok()) {
            throw new ConnectorException(Engine.KUDU, "cluster rebalance", r.error());
        }
        Matcher m = Pattern.compile("moved (\\d+) replicas").matcher(r.out());
        int moves = m.find() ? Integer.parseInt(m.group(1)) : -1;
        say.accept("kudu rebalancer: each move " + spread(moveSeconds) + " (from its own log)");
        say.accept(String.format(Locale.ROOT, "kudu rebalancer: %d moves, %.1f s", moves, secs));
        int onNew = kudu.snapshot().loads().get(fresh).replicas();
        return new Result("kudu cluster rebalance", secs, moves, onNew,
                KuduDrainBenchmark.side("kudu cluster rebalance", Double.NaN, secs, secs, moves, 0, kudu, null, rows));
    }

    /** "a s min, b s median, c s max" of the durations. */
    static String spread(List<Double> seconds) {
        List<Double> sorted = seconds.stream().sorted().toList();
        if (sorted.isEmpty()) {
            return "no durations";
        }
        return String.format(Locale.ROOT, "%.2f s min, %.2f s median, %.2f s max", sorted.get(0), sorted.get(sorted.size() / 2),
                sorted.get(sorted.size() - 1));
    }
}
