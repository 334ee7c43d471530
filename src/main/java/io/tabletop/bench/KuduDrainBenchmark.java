package io.tabletop.bench;

import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.kudu.KuduBinary;
import io.tabletop.connector.kudu.KuduCli;
import io.tabletop.connector.kudu.KuduConnector;
import io.tabletop.connector.kudu.LocalKuduCluster;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Benchmark;
import io.tabletop.service.RemovalService;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Drains the same tablet server of two identical fresh local clusters (5 tservers, tables of 24, 20 and
 * 16 tablets at RF 3, with rows): once with Tabletop's plan, once with Kudu's documented procedure
 * ({@code enter_maintenance} then {@code cluster rebalance --ignored_tservers=U
 * --move_replicas_from_ignored_tservers}), both at 5 moves per tserver. Reports wall time, replica moves
 * and the skews left behind. A benchmark, not a test.
 */
public final class KuduDrainBenchmark implements Benchmark {
    @Override
    public String name() {
        return "kudu-drain";
    }

    @Override
    public String description() {
        return "Drain one tserver of two identical fresh local Kudu clusters: Tabletop vs kudu cluster rebalance.";
    }

    @Override
    public List<Option> options() {
        return List.of(new Option("rounds", "3", "pairs of clusters"), new Option("rows", "20000", "rows per table"));
    }

    @Override
    public void run(Map<String, String> options, PrintWriter out, PrintWriter err) throws Exception {
        int rounds = Benchmark.intOption(options, "rounds");
        int rows = Benchmark.intOption(options, "rows");
        List<Side> all = new ArrayList<>();
        for (int i = 1; i <= rounds; i++) {
            int round = i;
            all.addAll(round(rows, line -> {
                err.println("round " + round + ": " + line);
                err.flush();
            }));
        }
        out.println("| round | tool | drain s | whole plan s | moves | replicas on drained | replica skew | leader skew | max table skew | rows before → after |");
        out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < all.size(); i++) {
            Side s = all.get(i);
            out.println(String.format(Locale.ROOT, "| %d | %s | %.1f | %.1f | %d | %d | %d | %d | %d | %d → %d |", i / 2 + 1, s.tool(),
                    s.drainSeconds(), s.totalSeconds(), s.moves(), s.replicasOnServer(), s.replicaSkew(), s.leaderSkew(),
                    s.tableSkew(), s.rowsBefore(), s.rowsAfter()));
        }
    }

    /** One side of one round. */
    public record Side(String tool, double drainSeconds, double totalSeconds, int moves, int replicasOnServer,
                       int replicaSkew, int leaderSkew, int tableSkew, long rowsBefore, long rowsAfter) {
    }

    private static final int[] TABLES = {24, 20, 16};

    public static List<Side> round(int rows, Consumer<String> say) throws Exception {
        KuduBinary binary = KuduBinary.locate(AppPaths.home().resolve("kudu"));
        Side ours;
        try (LocalKuduCluster c = LocalKuduCluster.start(binary, null, 5)) {
            c.loadTables(TABLES, rows, 3);
            ours = tabletop(KuduConnector.local(c), say);
        }
        Side theirs;
        try (LocalKuduCluster c = LocalKuduCluster.start(binary, null, 5)) {
            c.loadTables(TABLES, rows, 3);
            theirs = rebalancer(KuduConnector.local(c), say);
        }
        return List.of(ours, theirs);
    }

    private static Side tabletop(KuduConnector kudu, Consumer<String> say) throws Exception {
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        ClusterSnapshot before = kudu.snapshot();
        ServerId victim = before.servers().get(1).id();
        int on = (int) before.partitions().stream().filter(p -> p.isOn(victim)).count();
        RemovalService service = new RemovalService();
        RemovalService.PreCheck pre = service.preCheck(kudu, RemoveServers.of(victim));
        Plan plan = pre.plan();
        if (plan == null) {
            throw new IllegalStateException("pre-check blocked: " + pre.checks());
        }
        long t0 = System.nanoTime();
        AtomicLong lastMove = new AtomicLong(t0);
        RunResult r = service.execution(plan, kudu, new ExecutorOptions(5, 3, Duration.ofSeconds(1)), new ExecutionListener() {
            @Override
            public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                if (to == StepState.SUCCEEDED && step.type() == StepType.MOVE_REPLICA) {
                    lastMove.accumulateAndGet(System.nanoTime(), Math::max);
                }
            }
        }, null).start().get(30, TimeUnit.MINUTES);
        double total = (System.nanoTime() - t0) / 1e9;
        if (r.state() != RunState.SUCCEEDED) {
            throw new IllegalStateException("Tabletop run " + r.state() + ": " + r.failures());
        }
        double drain = (lastMove.get() - t0) / 1e9;
        say.accept(String.format(Locale.ROOT, "tabletop: %d moves, drain %.1f s, whole plan %.1f s", plan.summary().replicaMoves(), drain, total));
        return side("tabletop", drain, total, plan.summary().replicaMoves(), on, kudu, victim, rows);
    }

    private static Side rebalancer(KuduConnector kudu, Consumer<String> say) throws Exception {
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        ClusterSnapshot before = kudu.snapshot();
        ServerId victim = before.servers().get(1).id();
        int on = (int) before.partitions().stream().filter(p -> p.isOn(victim)).count();
        KuduCli cli = kudu.cli();
        long t0 = System.nanoTime();
        cli.check(60_000, "enter maintenance", "tserver", "state", "enter_maintenance", "@MASTERS", victim.value());
        KuduCli.Result r = cli.run(1_800_000, "cluster", "rebalance", "@MASTERS", "--ignored_tservers=" + victim.value(),
                "--move_replicas_from_ignored_tservers", "--max_moves_per_server=5");
        double drain = (System.nanoTime() - t0) / 1e9;
        if (!r.ok()) {
            throw new ConnectorException(Engine.KUDU, "cluster rebalance", r.error());
        }
        Matcher m = Pattern.compile("moved (\\d+) replicas").matcher(r.out());
        int moves = m.find() ? Integer.parseInt(m.group(1)) : -1;
        say.accept(String.format(Locale.ROOT, "kudu rebalancer: %d moves, %.1f s", moves, drain));
        return side("kudu cluster rebalance", drain, drain, moves, on, kudu, victim, rows);
    }

    /**
     * The masters learn of config changes from the tablet servers' reports, a heartbeat later: read until
     * every tablet has its replication factor in voters, no learner, and two reads a second apart agree
     * (at most 20 s), so that neither tool is judged on a view the masters have not caught up with.
     */
    static ClusterSnapshot settled(KuduConnector kudu) throws ConnectorException {
        ClusterSnapshot last = kudu.snapshot();
        for (int i = 0; i < 20; i++) {
            try {
                TimeUnit.SECONDS.sleep(1); // polling a remote cluster, in a benchmark
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            ClusterSnapshot now = kudu.snapshot();
            ClusterSnapshot c = now;
            boolean whole = now.partitions().stream().allMatch(p -> p.replicas().stream().noneMatch(r -> r.role() == ReplicaRole.LEARNER)
                    && p.voterCount() == c.table(p.table()).map(t -> t.replicationFactor()).orElse(p.voterCount()));
            if (whole && now.loads().equals(last.loads())) {
                return now;
            }
            last = now;
        }
        return last;
    }

    static Side side(String tool, double drain, double total, int moves, int on, KuduConnector kudu, ServerId victim,
                             Map<String, Long> rowsBefore) throws ConnectorException {
        ClusterSnapshot after = settled(kudu);
        Collection<ServerLoad> loads = after.loads().values().stream().filter(l -> !l.server().equals(victim)).toList();
        int replicaSkew = loads.stream().mapToInt(ServerLoad::replicas).max().orElse(0) - loads.stream().mapToInt(ServerLoad::replicas).min().orElse(0);
        int leaderSkew = loads.stream().mapToInt(ServerLoad::leaders).max().orElse(0) - loads.stream().mapToInt(ServerLoad::leaders).min().orElse(0);
        int tableSkew = 0;
        for (var t : after.tables()) {
            Map<ServerId, Integer> n = new HashMap<>();
            loads.forEach(l -> n.put(l.server(), 0));
            for (Partition p : after.partitions()) {
                if (p.table().equals(t.id())) {
                    p.replicas().forEach(rep -> n.computeIfPresent(rep.server(), (k, v) -> v + 1));
                }
            }
            tableSkew = Math.max(tableSkew, n.values().stream().mapToInt(i -> i).max().orElse(0) - n.values().stream().mapToInt(i -> i).min().orElse(0));
        }
        long before = rowsBefore.values().stream().mapToLong(Long::longValue).sum();
        long afterRows = kudu.rowCounts().orElseThrow().values().stream().mapToLong(Long::longValue).sum();
        return new Side(tool, drain, total, moves, on, replicaSkew, leaderSkew, tableSkew, before, afterRows);
    }
}
