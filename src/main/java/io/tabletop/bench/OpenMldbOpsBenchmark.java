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
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.planner.ScaleOut;
import io.tabletop.service.Benchmark;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Tabletop's plans against {@code tools/openmldb_ops.py}'s {@code scalein} and {@code scaleout}, reimplemented
 * as src/docs/openmldb.md ("openmldb_ops.py") reads them (with their flaws: load counts never updated in scale-in,
 * empty tablets never a scale-in destination, per-database balancing by replica count only, leaders left to
 * ChangeLeader "auto", which picks at random), on a seed-002-like cluster: four tablets, database {@code demo}
 * with tables at replica_num 3, 2 and 1 and a system table at 2. Scale-in removes tablet 4; scale-out starts
 * from three tablets and adds a fourth, empty. The script's random choices are run with 50 seeds. Counts
 * operations (Migrate, ChangeLeader, and the 4-call dance for a single replica), every leader change each plan
 * makes (a hand-over, a leader's move, the ChangeLeader inside each single-replica move), and the skews left over
 * the tablets that remain. Tabletop plans each with leader balance off (OpenMLDB's default) and on.
 * A benchmark of plans, not of time: the nameserver does the same work per operation.
 */
public final class OpenMldbOpsBenchmark implements Benchmark {
    private static final String[][] TABLES = {{"demo", "t3", "8", "3"}, {"demo", "t2", "12", "2"}, {"demo", "t1", "6", "1"},
            {"__INTERNAL_DB", "PRE_AGG_META_INFO", "1", "2"}};

    @Override
    public String name() {
        return "openmldb-ops";
    }

    @Override
    public String description() {
        return "Tabletop's OpenMLDB scale-in and scale-out plans against openmldb_ops.py's algorithm, on a seed-002-like cluster.";
    }

    @Override
    public List<Option> options() {
        return List.of(new Option("seeds", "50", "runs of the script's random choices"));
    }

    @Override
    public void run(Map<String, String> options, PrintWriter out, PrintWriter err) throws Exception {
        int seeds = Benchmark.intOption(options, "seeds");
        EngineCapabilities caps = EngineCapabilities.openmldb();
        Planner planner = new Planner();
        out.println("| goal | tool | migrates | leader changes | single-replica moves | replica skew after | leader skew after | looped forever "
                + "| all leader changes |");
        out.println("|---|---|---|---|---|---|---|---|---|");

        boolean byDefault = caps.leaderBalanceDefault();
        ClusterSnapshot four = cluster(4, 4);
        ServerId gone = ServerId.of(ep(4));
        for (boolean balance : new boolean[]{byDefault, !byDefault}) {
            Plan in = planner.plan(four, new RemoveServers(List.of(gone), balance, RemoveServers.DEFAULT_FILL_LIMIT), caps);
            row(out, "scale-in of 1 of 4", tabletop(balance, byDefault), four, in.steps(), in.after(), List.of(gone), 0);
        }
        Stats script = new Stats();
        for (int seed = 0; seed < seeds; seed++) {
            Script s = new Script(four, new Random(seed));
            s.scaleIn(gone);
            script.add(s, List.of(gone));
        }
        script.print(out, "scale-in of 1 of 4", seeds);

        ClusterSnapshot three = cluster(3, 4);
        ServerId fresh = ServerId.of(ep(4));
        for (boolean balance : new boolean[]{byDefault, !byDefault}) {
            Plan outPlan = planner.plan(three, new ScaleOut(List.of(fresh), balance), caps);
            row(out, "scale-out onto a 4th", tabletop(balance, byDefault), three, outPlan.steps(), outPlan.after(), List.of(), 0);
        }
        Stats scriptOut = new Stats();
        for (int seed = 0; seed < seeds; seed++) {
            Script s = new Script(three, new Random(seed));
            s.scaleOut();
            scriptOut.add(s, List.of());
        }
        scriptOut.print(out, "scale-out onto a 4th", seeds);
        out.println();
        out.println("leader changes: hand-overs planned as such (Tabletop) or before a leader's Migrate (the script). all leader changes: every "
                + "ChangeLeader the plan sends, also the one inside each single-replica move (AddReplicaNS, ChangeLeader, RecoverTable, "
                + "DelReplicaNS) and before any move of a leader; each is a moment in which writes the new leader lacks can be lost.");
    }

    /** Tabletop's row label: leader balance as planned, and whether that is OpenMLDB's default. */
    private static String tabletop(boolean balance, boolean byDefault) {
        return "Tabletop, leader balance " + (balance ? "on" : "off") + (balance == byDefault ? " (default)" : "");
    }

    private static String ep(int n) {
        return "127.0.2." + n + ":10921";
    }

    /** {@code used} tablets hold the tables round the ring (leader on p mod used); {@code all} tablets exist. */
    static ClusterSnapshot cluster(int used, int all) {
        List<Server> servers = new ArrayList<>();
        for (int n = 1; n <= all; n++) {
            servers.add(new Server(ServerId.of(ep(n)), ep(n), null, ServerState.LIVE));
        }
        List<Table> tables = new ArrayList<>();
        List<Partition> parts = new ArrayList<>();
        int offset = 0;
        for (String[] t : TABLES) {
            String id = t[0] + "." + t[1];
            int partitions = Integer.parseInt(t[2]);
            int rn = Integer.parseInt(t[3]);
            tables.add(new Table(TableId.of(id), id, rn));
            for (int p = 0; p < partitions; p++) {
                List<Replica> reps = new ArrayList<>();
                for (int r = 0; r < rn; r++) {
                    reps.add(new Replica(servers.get((offset + p + r) % used).id(), r == 0 ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER));
                }
                parts.add(new Partition(PartitionId.of(id + "/" + p), TableId.of(id), 1_000_000L, 1000L, reps));
            }
            offset += partitions;
        }
        return new ClusterSnapshot(Engine.OPENMLDB, "seed-002-like", null, servers, tables, parts);
    }

    private static void row(PrintWriter out, String goal, String tool, ClusterSnapshot before, List<Step> steps, ClusterSnapshot after,
                            List<ServerId> removed, int looped) {
        long migrates = steps.stream().filter(s -> s.type() == StepType.MOVE_REPLICA).count();
        long transfers = steps.stream().filter(s -> s.type() == StepType.TRANSFER_LEADER).count();
        Map<String, Integer> rn = new HashMap<>();
        after.tables().forEach(t -> rn.put(t.id().value(), t.replicationFactor()));
        long singles = steps.stream().filter(s -> s.type() == StepType.MOVE_REPLICA && rn.getOrDefault(s.table().value(), 2) == 1).count();
        int[] sk = skews(after, removed);
        out.println(String.format(Locale.ROOT, "| %s | %s | %d | %d | %d | %d | %d | %s | %d |", goal, tool, migrates - singles, transfers, singles,
                sk[0], sk[1], looped == 0 ? "no" : "yes", leaderChanges(before, steps)));
    }

    /**
     * Every leader change the steps make on OpenMLDB, followed in plan order: a hand-over is one; a move whose
     * source leads at that point is one (ChangeLeader before Migrate, or inside the single-replica sequence).
     * Where the nameserver picks the new leader ("auto"), the next replica in the chain stands for it.
     */
    static int leaderChanges(ClusterSnapshot before, List<Step> steps) {
        Map<PartitionId, List<ServerId>> chains = new HashMap<>();
        for (Partition p : before.partitions()) {
            List<ServerId> ch = new ArrayList<>();
            p.leader().ifPresent(ch::add);
            p.replicas().forEach(r -> {
                if (!ch.contains(r.server())) {
                    ch.add(r.server());
                }
            });
            chains.put(p.id(), ch);
        }
        int n = 0;
        for (Step s : steps) {
            List<ServerId> ch = chains.get(s.partition());
            if (ch == null || ch.isEmpty()) {
                continue;
            }
            if (s.type() == StepType.TRANSFER_LEADER) {
                n++;
                ch.remove(s.to());
                ch.add(0, s.to());
            } else if (s.type() == StepType.MOVE_REPLICA) {
                int at = ch.indexOf(s.from());
                if (at == 0) {
                    n++;
                    ch.set(0, s.to());
                    if (ch.size() > 1) {
                        Collections.swap(ch, 0, 1); // "auto" chose a follower; the new copy follows
                    }
                } else if (at > 0) {
                    ch.set(at, s.to());
                }
            }
        }
        return n;
    }

    /** {replica skew, leader skew} over the tablets that remain. */
    static int[] skews(ClusterSnapshot c, List<ServerId> removed) {
        List<ServerLoad> loads = c.loads().values().stream().filter(l -> !removed.contains(l.server())).toList();
        int rlo = loads.stream().mapToInt(ServerLoad::replicas).min().orElse(0);
        int rhi = loads.stream().mapToInt(ServerLoad::replicas).max().orElse(0);
        int llo = loads.stream().mapToInt(ServerLoad::leaders).min().orElse(0);
        int lhi = loads.stream().mapToInt(ServerLoad::leaders).max().orElse(0);
        return new int[]{rhi - rlo, lhi - llo};
    }

    /** The script's counts over the seeds: mean and range. */
    private static final class Stats {
        final List<int[]> runs = new ArrayList<>();

        void add(Script s, List<ServerId> removed) {
            int[] sk = skews(s.snapshot(), removed);
            runs.add(new int[]{s.migrates, s.changeLeaders, s.singles, sk[0], sk[1], s.loopedForever ? 1 : 0, s.changeLeaders + s.singles});
        }

        void print(PrintWriter out, String goal, int seeds) {
            StringBuilder b = new StringBuilder("| " + goal + " | openmldb_ops.py (" + seeds + " seeds) |");
            for (int k = 0; k < 5; k++) {
                int col = k;
                int lo = runs.stream().mapToInt(r -> r[col]).min().orElse(0);
                int hi = runs.stream().mapToInt(r -> r[col]).max().orElse(0);
                b.append(' ').append(lo == hi ? String.valueOf(lo) : lo + "–" + hi).append(" |");
            }
            long looped = runs.stream().filter(r -> r[5] == 1).count();
            b.append(' ').append(looped == 0 ? "no" : looped + " of " + seeds).append(" |");
            int lo = runs.stream().mapToInt(r -> r[6]).min().orElse(0);
            int hi = runs.stream().mapToInt(r -> r[6]).max().orElse(0);
            b.append(' ').append(lo == hi ? String.valueOf(lo) : lo + "–" + hi).append(" |");
            out.println(b);
        }
    }

    /** openmldb_ops.py's scalein / scaleout over an in-memory cluster (tools/openmldb_ops.py at v0.9.3: src/docs/openmldb.md, "openmldb_ops.py"). */
    static final class Script {
        final Map<String, List<String>> chains = new LinkedHashMap<>(); // partition -> endpoints, leader first
        final Map<String, String> db = new HashMap<>();
        final List<String> endpoints = new ArrayList<>();
        final ClusterSnapshot base;
        final Random random;
        int migrates;
        int changeLeaders;
        int singles;
        boolean loopedForever;

        Script(ClusterSnapshot c, Random random) {
            this.base = c;
            this.random = random;
            c.servers().forEach(s -> endpoints.add(s.id().value()));
            for (Partition p : c.partitions()) {
                List<String> ch = new ArrayList<>();
                p.replicas().forEach(r -> ch.add(r.server().value()));
                chains.put(p.id().value(), ch);
                db.put(p.id().value(), p.table().value().substring(0, p.table().value().indexOf('.')));
            }
        }

        Map<String, Integer> counts(String onlyDb, boolean withEmpty) {
            Map<String, Integer> n = new LinkedHashMap<>();
            if (withEmpty) {
                endpoints.forEach(e -> n.put(e, 0));
            }
            chains.forEach((p, ch) -> {
                if (onlyDb == null || db.get(p).equals(onlyDb)) {
                    ch.forEach(e -> n.merge(e, 1, Integer::sum));
                }
            });
            return n;
        }

        /** MigratePartition (ops.py:247-261): a leader first hands over to a random other replica ("auto"), then migrates; one replica: the dance. */
        void migrate(String p, String src, String dst) {
            List<String> ch = chains.get(p);
            if (ch.size() == 1) {
                singles++;
                ch.set(0, dst);
                return;
            }
            if (ch.get(0).equals(src)) {
                changeLeaders++;
                int pick = 1 + random.nextInt(ch.size() - 1);
                Collections.swap(ch, 0, pick);
            }
            migrates++;
            ch.set(ch.indexOf(src), dst);
        }

        /** ScaleInEndpoint (ops.py:342-407): destinations by the load counted once, before any move; tablets that hold nothing are never chosen. */
        void scaleIn(ServerId gone) {
            String g = gone.value();
            Map<String, Integer> counts = counts(null, false);
            List<String> desc = endpoints.stream().filter(e -> !e.equals(g)).toList();
            for (String p : new ArrayList<>(chains.keySet())) {
                List<String> ch = chains.get(p);
                if (!ch.contains(g)) {
                    continue;
                }
                String best = null;
                for (String e : desc) {
                    if (counts.containsKey(e) && !ch.contains(e) && (best == null || counts.get(e) < counts.get(best))) {
                        best = e;
                    }
                }
                if (best != null) {
                    migrate(p, g, best);
                }
            }
        }

        /** BalanceInDatabase (ops.py:263-323): per user database, most-loaded to least-loaded by replica count until within 1; no guard against a loop. */
        void scaleOut() {
            List<String> dbs = db.values().stream().filter(d -> !d.startsWith("__") && !d.equals("INFORMATION_SCHEMA")).distinct().toList();
            for (String d : dbs) {
                for (int guard = 0; ; guard++) {
                    if (guard > 10_000) {
                        loopedForever = true;
                        return;
                    }
                    Map<String, Integer> n = counts(d, true);
                    String start = endpoints.get(random.nextInt(endpoints.size()));
                    String out = start;
                    String in = start;
                    for (String e : endpoints) {
                        if (n.get(e) > n.get(out)) {
                            out = e;
                        }
                        if (n.get(e) < n.get(in)) {
                            in = e;
                        }
                    }
                    if (n.get(out) <= n.get(in) + 1) {
                        break;
                    }
                    List<String> candidates = new ArrayList<>();
                    for (Map.Entry<String, List<String>> e : chains.entrySet()) {
                        if (db.get(e.getKey()).equals(d) && e.getValue().contains(out) && !e.getValue().contains(in)) {
                            candidates.add(e.getKey());
                        }
                    }
                    if (candidates.isEmpty()) {
                        loopedForever = true; // the script's inner loop finds nothing and spins
                        return;
                    }
                    migrate(candidates.get(random.nextInt(candidates.size())), out, in);
                }
            }
        }

        ClusterSnapshot snapshot() {
            List<Partition> ps = new ArrayList<>();
            for (Partition p : base.partitions()) {
                List<String> ch = chains.get(p.id().value());
                List<Replica> reps = new ArrayList<>();
                for (int i = 0; i < ch.size(); i++) {
                    reps.add(new Replica(ServerId.of(ch.get(i)), i == 0 ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER));
                }
                ps.add(p.withReplicas(reps));
            }
            return new ClusterSnapshot(base.engine(), base.cluster(), null, base.servers(), base.tables(), ps);
        }
    }
}
