package io.tabletop.bench;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.Benchmark;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Times the planner on large balanced clusters (20 tables, RF 3; servers = replicas / 1,000, at least 20;
 * 10 servers removed, fewer on small clusters). One thread. A benchmark, not a test.
 */
public final class PlannerBenchmark implements Benchmark {
    @Override
    public String name() {
        return "planner";
    }

    @Override
    public String description() {
        return "Time the planner on even clusters of 10k, 100k and 1M replicas (RF 3, 10 servers removed).";
    }

    @Override
    public List<Option> options() {
        return List.of(new Option("replicas", "10000,100000,1000000", "cluster sizes"),
                new Option("repeats", "5", "timed runs per size after one warm-up"));
    }

    @Override
    public void run(Map<String, String> options, PrintWriter out, PrintWriter err) throws Exception {
        int[] replicas = Benchmark.intsOption(options, "replicas");
        int repeats = Benchmark.intOption(options, "repeats");
        out.println("| replicas | servers | removed | moves | best s | median s | heap after, MB |");
        out.println("|---|---|---|---|---|---|---|");
        for (int n : replicas) {
            Result r = run(n, repeats);
            out.println(String.format(Locale.ROOT, "| %,d | %d | %d | %,d | %.3f | %.3f | %d |", r.replicas(), r.servers(), r.removed(),
                    r.moves(), r.bestSeconds(), r.medianSeconds(), r.heapUsedMb()));
            out.flush();
        }
    }

    /** One measurement. */
    public record Result(int replicas, int servers, int removed, int moves, double bestSeconds, double medianSeconds,
                         long heapUsedMb) {
    }

    public static ClusterSnapshot cluster(int replicas, long seed) {
        Random r = new Random(seed);
        int servers = Math.max(20, replicas / 1000);
        List<Server> ss = new ArrayList<>(servers);
        for (int i = 0; i < servers; i++) {
            ss.add(new Server(ServerId.of("ts-" + (i + 1)), "ts-" + (i + 1) + ":7050", null, ServerState.LIVE));
        }
        int tables = 20;
        int partitions = replicas / 3;
        List<Table> ts = new ArrayList<>();
        for (int t = 0; t < tables; t++) {
            ts.add(new Table(TableId.of("t-" + (t + 1)), "table" + (t + 1), 3));
        }
        List<Partition> ps = new ArrayList<>(partitions);
        // Placed as a balancing engine would leave it: each replica on the emptier of two random servers
        // ("power of two choices"), so counts sit within a few percent of even; leaders drawn at random.
        int[] load = new int[servers];
        for (int k = 0; k < partitions; k++) {
            int t = k % tables;
            int leader = r.nextInt(3);
            int[] chosen = new int[3];
            List<Replica> reps = new ArrayList<>(3);
            for (int j = 0; j < 3; j++) {
                int s = pick(r, servers, load, chosen, j);
                chosen[j] = s;
                load[s]++;
                reps.add(new Replica(ss.get(s).id(), j == leader ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER));
            }
            long size = 10_000_000L + r.nextInt(1_000_000_000);
            ps.add(new Partition(PartitionId.of("p-" + k), ts.get(t).id(), size, size / 100, reps));
        }
        return new ClusterSnapshot(Engine.KUDU, "bench-" + replicas, null, ss, ts, ps);
    }

    private static int pick(Random r, int servers, int[] load, int[] chosen, int taken) {
        while (true) {
            int a = r.nextInt(servers);
            int b = r.nextInt(servers);
            int s = load[a] <= load[b] ? a : b;
            boolean dup = false;
            for (int j = 0; j < taken; j++) {
                dup |= chosen[j] == s;
            }
            if (!dup) {
                return s;
            }
        }
    }

    public static Result run(int replicas, int repeats) throws Exception {
        ClusterSnapshot c = cluster(replicas, 1);
        int removeCount = Math.min(10, c.servers().size() / 4);
        List<ServerId> remove = new ArrayList<>();
        for (int i = 0; i < removeCount; i++) {
            remove.add(c.servers().get(i * (c.servers().size() / removeCount)).id());
        }
        RemoveServers goal = new RemoveServers(remove, true, 0.85);
        Planner planner = new Planner();
        EngineCapabilities caps = EngineCapabilities.kudu();
        planner.plan(c, goal, caps); // warm-up
        double[] t = new double[repeats];
        Plan plan = null;
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            plan = planner.plan(c, goal, caps);
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1_000_000;
        return new Result(replicas, c.servers().size(), removeCount, plan.summary().replicaMoves(), t[0], t[repeats / 2], heap);
    }
}
