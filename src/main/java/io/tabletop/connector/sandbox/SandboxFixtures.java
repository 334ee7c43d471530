package io.tabletop.connector.sandbox;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Named, deterministic clusters for the sandbox and the tests. Placement is location-aware (one replica
 * per location where the locations allow) and count-balanced, as a healthy Kudu cluster would be;
 * leaders are deliberately uneven.
 */
public final class SandboxFixtures {
    private static final Instant EPOCH = Instant.parse("2026-11-22T09:00:00Z");
    private static final long MB = 1_000_000L;
    private static final long GB = 1_000_000_000L;

    private SandboxFixtures() {
    }

    /** The demo cluster: 6 servers in 3 locations, 4 tables, 240 partitions at RF 3, 10 MB to 5 GB each. */
    public static ClusterSnapshot standard() {
        return build("sandbox", 6, 3, new String[]{"orders", "customers", "events", "inventory"},
                new int[]{80, 40, 90, 30}, 3, 500 * GB, 42L);
    }

    /** 5 servers, no locations, 3 tables, 60 partitions: the shape of research/kudu.md's baseline. */
    public static ClusterSnapshot kuduBaseline() {
        return build("baseline", 5, 0, new String[]{"loadgen_a", "loadgen_b", "loadgen_c"},
                new int[]{24, 20, 16}, 3, 0, 7L);
    }

    /** 4 servers, one table at RF 3: removing two is impossible. */
    public static ClusterSnapshot tight() {
        return build("tight", 4, 0, new String[]{"ledger"}, new int[]{24}, 3, 0, 11L);
    }

    /** 3 servers, tiny partitions: fast runs for UI tests. */
    public static ClusterSnapshot small() {
        return build("small", 4, 0, new String[]{"orders", "users"}, new int[]{12, 8}, 3, 0, 5L);
    }

    /**
     * The console at scale: 1,000 servers in 10 locations, 10 tables, 100,000 partitions at RF 3 (300,000
     * replicas), 1 MB to 2 GB each. Replicas are laid out by stride, one per location, so the cluster is
     * built in well under a second; leaders lean on every seventh server.
     */
    public static ClusterSnapshot large() {
        int serverCount = 1000;
        int locations = 10;
        int tablesN = 10;
        int perTable = 10_000;
        Random rnd = new Random(1000L);
        List<Server> servers = new ArrayList<>(serverCount);
        for (int i = 1; i <= serverCount; i++) {
            servers.add(new Server(ServerId.of("ts-" + i), "ts-" + i + ".large:7050", "/rack" + ((i - 1) % locations + 1),
                    ServerState.LIVE, 4000 * GB, null, null));
        }
        List<Table> tables = new ArrayList<>();
        List<Partition> partitions = new ArrayList<>(tablesN * perTable);
        int k = 0;
        for (int t = 0; t < tablesN; t++) {
            TableId tid = TableId.of("t-" + (t + 1));
            String name = "table_" + (t + 1);
            tables.add(new Table(tid, name, 3));
            for (int i = 0; i < perTable; i++, k++) {
                // Servers a, a+1, a+2 sit in three different locations (location = index mod 10).
                int a = (int) ((k * 3L + t) % serverCount);
                int lead = k % 7 == 0 ? (a % 7 == 0 ? 0 : a % 7 < 3 ? a % 7 : 0) : (k % 3);
                List<Replica> reps = new ArrayList<>(3);
                for (int r = 0; r < 3; r++) {
                    reps.add(new Replica(servers.get((a + r) % serverCount).id(), r == lead ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER));
                }
                long size = Math.round(Math.exp(Math.log(MB) + rnd.nextDouble() * (Math.log(2 * GB) - Math.log(MB))));
                partitions.add(new Partition(PartitionId.of(name + "-" + (i + 1)), tid, size, size / 180, reps));
            }
        }
        return new ClusterSnapshot(Engine.SANDBOX, "large", EPOCH, servers, tables, partitions);
    }

    /**
     * A reproducible cluster of any shape.
     *
     * @param locations 0 for none; otherwise servers are spread round-robin over /rack1../rackN
     * @param capacity  per-server capacity in bytes, 0 for unknown
     */
    public static ClusterSnapshot build(String name, int serverCount, int locations, String[] tableNames,
                                        int[] partitionCounts, int rf, long capacity, long seed) {
        Random rnd = new Random(seed);
        List<Server> servers = new ArrayList<>();
        for (int i = 1; i <= serverCount; i++) {
            String loc = locations == 0 ? null : "/rack" + (((i - 1) / Math.max(1, serverCount / locations)) % locations + 1);
            servers.add(new Server(ServerId.of("ts-" + i), "ts-" + i + "." + name + ":7050", loc, ServerState.LIVE,
                    capacity > 0 ? capacity : null, null, null));
        }
        List<Table> tables = new ArrayList<>();
        List<Partition> partitions = new ArrayList<>();
        Map<ServerId, Integer> total = new HashMap<>();
        Map<ServerId, Integer> leaders = new HashMap<>();
        servers.forEach(s -> {
            total.put(s.id(), 0);
            leaders.put(s.id(), 0);
        });
        // Leader weights: deliberately uneven, so the console has something to show and to balance.
        double[] leaderWeight = new double[serverCount];
        for (int i = 0; i < serverCount; i++) {
            leaderWeight[i] = 1.0 + (i % 3 == 0 ? 1.6 : i % 3 == 1 ? 0.2 : 0.8);
        }
        for (int t = 0; t < tableNames.length; t++) {
            TableId tid = TableId.of("t-" + (t + 1));
            tables.add(new Table(tid, tableNames[t], rf));
            Map<ServerId, Integer> perTable = new HashMap<>();
            servers.forEach(s -> perTable.put(s.id(), 0));
            for (int k = 0; k < partitionCounts[t]; k++) {
                PartitionId pid = PartitionId.of(tableNames[t] + "-" + (k + 1));
                // log-uniform size between 10 MB and 5 GB
                long size = Math.round(Math.exp(Math.log(10 * MB) + rnd.nextDouble() * (Math.log(5 * GB) - Math.log(10 * MB))));
                List<ServerId> chosen = pick(servers, rf, perTable, total, rnd);
                // leader: weighted pick among the chosen
                double sum = 0;
                for (ServerId s : chosen) {
                    sum += leaderWeight[Integer.parseInt(s.value().substring(3)) - 1];
                }
                double r = rnd.nextDouble() * sum;
                ServerId leader = chosen.get(0);
                for (ServerId s : chosen) {
                    r -= leaderWeight[Integer.parseInt(s.value().substring(3)) - 1];
                    if (r <= 0) {
                        leader = s;
                        break;
                    }
                }
                List<Replica> reps = new ArrayList<>();
                for (ServerId s : chosen) {
                    reps.add(new Replica(s, s.equals(leader) ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER));
                    perTable.merge(s, 1, Integer::sum);
                    total.merge(s, 1, Integer::sum);
                }
                leaders.merge(leader, 1, Integer::sum);
                partitions.add(new Partition(pid, tid, size, size / 180, reps));
            }
        }
        return new ClusterSnapshot(Engine.SANDBOX, name, EPOCH, servers, tables, partitions);
    }

    /** RF servers: at most one per location while locations last, fewest of this table, then fewest in total. */
    private static List<ServerId> pick(List<Server> servers, int rf, Map<ServerId, Integer> perTable,
                                       Map<ServerId, Integer> total, Random rnd) {
        List<Server> order = new ArrayList<>(servers);
        Map<ServerId, Double> tieBreak = new HashMap<>();
        servers.forEach(s -> tieBreak.put(s.id(), rnd.nextDouble())); // equals are picked at random, as a master would
        order.sort(Comparator.<Server>comparingInt(s -> perTable.get(s.id()))
                .thenComparingInt(s -> total.get(s.id()))
                .thenComparing(s -> tieBreak.get(s.id())));
        List<ServerId> out = new ArrayList<>();
        Map<String, Integer> usedLoc = new LinkedHashMap<>();
        long locCount = servers.stream().map(Server::location).filter(Objects::nonNull).distinct().count();
        for (Server s : order) {
            if (out.size() == rf) {
                break;
            }
            if (s.location() != null && usedLoc.getOrDefault(s.location(), 0) >= Math.ceil((double) rf / Math.max(1, locCount))) {
                continue;
            }
            out.add(s.id());
            if (s.location() != null) {
                usedLoc.merge(s.location(), 1, Integer::sum);
            }
        }
        for (Server s : order) {
            if (out.size() == rf) {
                break;
            }
            if (!out.contains(s.id())) {
                out.add(s.id());
            }
        }
        return out;
    }
}
