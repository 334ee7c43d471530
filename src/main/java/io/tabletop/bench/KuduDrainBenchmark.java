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
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Benchmark;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Drains the same tablet server of identical fresh local clusters (5 tservers, tables of 24, 20 and 16
 * tablets at RF 3, 1,000,000 rows each by default, flushed to disk before the drain): with Tabletop at a
 * fixed 5 moves per tserver and in its adaptive mode (ceiling 10), and with Kudu's documented procedure
 * ({@code enter_maintenance}, then {@code cluster rebalance --ignored_tservers=U
 * --move_replicas_from_ignored_tservers}) at its default and at {@code --max_moves_per_server=10}.
 * Each side is timed from its launch (Tabletop: the pre-check's first read, as {@code apply} does it; Kudu:
 * {@code enter_maintenance}) to its first move, to the moment the tserver holds nothing, and to its end.
 * A benchmark, not a test.
 */
public final class KuduDrainBenchmark implements Benchmark {
    @Override
    public String name() {
        return "kudu-drain";
    }

    @Override
    public String description() {
        return "Drain one tserver of identical fresh local Kudu clusters with real data: Tabletop (fixed 5, adaptive) vs kudu cluster rebalance (default, 10).";
    }

    @Override
    public List<Option> options() {
        return List.of(new Option("rounds", "1", "rounds of four clusters"),
                new Option("rows", "1000000", "rows per table (3 tables; 20000 for the small load)"));
    }

    /** The four ways of draining: the tool, and its bound on moves per server (0: the tool's default). */
    enum Way {
        TABLETOP_5("tabletop, 5 per tserver"), TABLETOP_AUTO("tabletop, adaptive (ceiling 10)"),
        KUDU_DEFAULT("kudu cluster rebalance (default)"), KUDU_10("kudu cluster rebalance, --max_moves_per_server=10");

        final String label;

        Way(String label) {
            this.label = label;
        }
    }

    @Override
    public void run(Map<String, String> options, PrintWriter out, PrintWriter err) throws Exception {
        int rounds = Benchmark.intOption(options, "rounds");
        int rows = Benchmark.intOption(options, "rows");
        List<List<Side>> all = new ArrayList<>();
        for (int i = 1; i <= rounds; i++) {
            int round = i;
            all.add(round(rows, line -> {
                err.println("round " + round + ": " + line);
                err.flush();
            }));
        }
        out.println("| round | tool | first move s | tserver empty s | end s | moves | MB on drained | replica skew | leader skew | max table skew | rows before → after |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < all.size(); i++) {
            for (Side s : all.get(i)) {
                out.println(String.format(Locale.ROOT, "| %d | %s | %.1f | %.1f | %.1f | %d | %d | %d | %d | %d | %d → %d |", i + 1, s.tool(),
                        s.firstMove(), s.empty(), s.end(), s.moves(), s.bytesOnServer() / 1_000_000, s.replicaSkew(), s.leaderSkew(),
                        s.tableSkew(), s.rowsBefore(), s.rowsAfter()));
            }
        }
        out.println();
        for (int i = 0; i < all.size(); i++) {
            List<Side> r = all.get(i);
            out.println(String.format(Locale.ROOT, "round %d, launch to empty tserver: tabletop 5 / rebalancer default = %.2f; "
                            + "tabletop adaptive / rebalancer default = %.2f; tabletop adaptive / rebalancer at 10 = %.2f", i + 1,
                    r.get(0).empty() / r.get(2).empty(), r.get(1).empty() / r.get(2).empty(), r.get(1).empty() / r.get(3).empty()));
        }
    }

    /**
     * One side of one round; times in seconds from its launch.
     *
     * @param empty when the drained tserver held no replica any more
     */
    public record Side(String tool, double firstMove, double empty, double end, int moves, long bytesOnServer,
                       int replicaSkew, int leaderSkew, int tableSkew, long rowsBefore, long rowsAfter) {
    }

    private static final int[] TABLES = {24, 20, 16};

    public static List<Side> round(int rows, Consumer<String> say) throws Exception {
        KuduBinary binary = KuduBinary.locate(AppPaths.home().resolve("kudu"));
        List<Side> out = new ArrayList<>();
        for (Way way : Way.values()) {
            try (LocalKuduCluster c = LocalKuduCluster.start(binary, null, 5)) {
                long t = System.nanoTime();
                c.loadTables(TABLES, rows, 3);
                say.accept(String.format(Locale.ROOT, "%s: loaded %d rows in %.0f s", way.label, 3L * rows, (System.nanoTime() - t) / 1e9));
                double flushed = c.awaitFlushed(8 * 60_000L);
                say.accept(String.format(Locale.ROOT, "%s: flushed to disk after %.0f s more", way.label, flushed));
                KuduConnector kudu = KuduConnector.local(c);
                Side s = way == Way.TABLETOP_5 || way == Way.TABLETOP_AUTO ? tabletop(kudu, way, say) : rebalancer(kudu, c, way, say);
                out.add(s);
            }
        }
        return out;
    }

    private static Side tabletop(KuduConnector kudu, Way way, Consumer<String> say) throws Exception {
        ClusterSnapshot first = kudu.snapshot();
        ServerId victim = first.servers().get(1).id();
        long bytesOn = first.partitions().stream().filter(p -> p.isOn(victim)).mapToLong(Partition::sizeOrZero).sum();
        Path scratch = Files.createTempDirectory("tabletop-bench-");
        try {
            // as apply does it: one read, rows counted while the run starts, the pre-check's verdict for the first gate
            Instant launch = Instant.now();
            ClusterSnapshot before = kudu.snapshot();
            var counting = RemovalService.countRows(kudu, before);
            RemovalService service = new RemovalService();
            RemovalService.PreCheck pre = service.preCheck(kudu, before, launch, RemoveServers.of(victim), counting, false);
            Plan plan = pre.plan();
            if (plan == null) {
                throw new IllegalStateException("pre-check blocked: " + pre.checks());
            }
            ExecutorOptions how = new ExecutorOptions(5, 3, Duration.ofSeconds(2));
            if (way == Way.TABLETOP_AUTO) {
                how = how.withCeiling(10);
            }
            List<String> changes = new CopyOnWriteArrayList<>();
            Runs runs = new Runs(scratch.resolve("runs"), new AuditLog(scratch.resolve("audit.jsonl")));
            Runs.Run run = runs.start(plan, kudu, kudu.name(), false, how.withPrelude(pre.prelude(launch)), new ExecutionListener() {
                @Override
                public void concurrencyChanged(int from, int to, String reason) {
                    changes.add(from + " → " + to);
                    say.accept(way.label + ": moves per server " + from + " → " + to + ": " + reason);
                }
            }, null);
            RunResult r = run.done().get(60, TimeUnit.MINUTES);
            if (r.state() != RunState.SUCCEEDED) {
                throw new IllegalStateException("Tabletop run " + r.state() + ": " + r.failures());
            }
            RunResult.Timeline t = r.timeline();
            say.accept(String.format(Locale.ROOT, "%s: %d moves; %s; moves per server %s", way.label, plan.summary().replicaMoves(),
                    t.describe(), changes.isEmpty() ? "unchanged" : String.join(", ", changes)));
            return side(way.label, t.firstMove(), t.lastMoveEnd(), t.end(), plan.summary().replicaMoves(), bytesOn, kudu, victim,
                    pre.rowsBefore());
        } finally {
            deleteTree(scratch);
        }
    }

    private static Side rebalancer(KuduConnector kudu, LocalKuduCluster c, Way way, Consumer<String> say) throws Exception {
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        ClusterSnapshot before = kudu.snapshot();
        ServerId victim = before.servers().get(1).id();
        long bytesOn = before.partitions().stream().filter(p -> p.isOn(victim)).mapToLong(Partition::sizeOrZero).sum();
        int on = (int) before.partitions().stream().filter(p -> p.isOn(victim)).count();
        KuduCli cli = kudu.cli();
        long t0 = System.nanoTime();
        // the master's view, four times a second: the first new replica anywhere, and the drained tserver empty
        AtomicLong firstMove = new AtomicLong();
        AtomicLong empty = new AtomicLong();
        Thread watcher = new Thread(() -> {
            int total = -1;
            while (empty.get() == 0 && !Thread.currentThread().isInterrupted()) {
                try {
                    Map<String, Integer> per = kudu.replicasPerTserver();
                    int all = per.values().stream().mapToInt(Integer::intValue).sum();
                    int onVictim = per.getOrDefault(victim.value(), 0);
                    long now = System.nanoTime();
                    if (total < 0) {
                        total = all;
                    } else if (firstMove.get() == 0 && (all > total || onVictim < on)) {
                        firstMove.set(now);
                    }
                    if (onVictim == 0) {
                        empty.set(now);
                    }
                    TimeUnit.MILLISECONDS.sleep(250); // polling a real cluster, in a benchmark
                } catch (ConnectorException e) {
                    // the master is busy: look again
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-watch-master");
        watcher.setDaemon(true);
        watcher.start();
        cli.check(60_000, "enter maintenance", "tserver", "state", "enter_maintenance", "@MASTERS", victim.value());
        List<String> args = new ArrayList<>(List.of("cluster", "rebalance", "@MASTERS", "--ignored_tservers=" + victim.value(),
                "--move_replicas_from_ignored_tservers"));
        if (way == Way.KUDU_10) {
            args.add("--max_moves_per_server=10");
        }
        KuduCli.Result r = cli.run(3_600_000, args.toArray(String[]::new));
        double end = (System.nanoTime() - t0) / 1e9;
        watcher.join(5_000);
        watcher.interrupt();
        if (!r.ok()) {
            throw new ConnectorException(Engine.KUDU, "cluster rebalance", r.error());
        }
        Matcher m = Pattern.compile("moved (\\d+) replicas").matcher(r.out());
        int moves = m.find() ? Integer.parseInt(m.group(1)) : -1;
        double first = firstMove.get() == 0 ? Double.NaN : (firstMove.get() - t0) / 1e9;
        double emptied = empty.get() == 0 ? end : (empty.get() - t0) / 1e9;
        say.accept(String.format(Locale.ROOT, "%s: %d moves; first move %.1f s, tserver empty %.1f s, end %.1f s", way.label, moves, first, emptied, end));
        return side(way.label, first, emptied, end, moves, bytesOn, kudu, victim, rows);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
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

    static Side side(String tool, double firstMove, double empty, double end, int moves, long bytesOn, KuduConnector kudu,
                      ServerId victim, Map<String, Long> rowsBefore) throws ConnectorException {
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
        long before = rowsBefore == null ? -1 : rowsBefore.values().stream().mapToLong(Long::longValue).sum();
        long afterRows = kudu.rowCounts().orElseThrow().values().stream().mapToLong(Long::longValue).sum();
        return new Side(tool, firstMove, empty, end, moves, bytesOn, replicaSkew, leaderSkew, tableSkew, before, afterRows);
    }
}
