package io.tabletop.planner;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;
import io.tabletop.domain.Units;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A removal on an engine that moves data only in its own rebalance (Couchbase: {@code POST
 * /controller/rebalance} with {@code ejectedNodes}). The plan is one engine step; what the reviewer gets
 * is the prediction, per bucket (tables are buckets, partitions vBuckets, the leader the active copy),
 * following ns_server's rules (research/couchbase.md §2):
 * <ul>
 *   <li>R replicas need R+1 data nodes; with fewer, the bucket keeps N'−1 (and with server groups, no more
 *       than the smallest "nodes outside a group"), and gets the rest back on a later rebalance;</li>
 *   <li>actives per surviving node ⌊V/N'⌋ or one more, replicas ⌊R·V/N'⌋ or one more (the +1 to the nodes
 *       that hold most now, the minimal-move choice);</li>
 *   <li>a survivor keeps what it has up to its quota; an active that must move is promoted on a surviving
 *       replica where one has room (a takeover without copying), else built on the node with most room.</li>
 * </ul>
 * The map is concrete, so items per node come from the vBuckets' own item counts, and the movement is the
 * server's own score: copies to build from scratch, and takeovers.
 */
final class EngineRebalance {
    private EngineRebalance() {
    }

    static Plan plan(ClusterSnapshot snap, RemoveServers goal, EngineCapabilities caps) throws PlanRefusedException {
        List<CheckResult> checks = new ArrayList<>();
        List<String> unknown = goal.servers().stream().filter(id -> snap.server(id).isEmpty()).map(ServerId::value).toList();
        if (!unknown.isEmpty()) {
            checks.add(CheckResult.block("Servers to remove", "unknown server(s): " + String.join(", ", unknown)));
            throw new PlanRefusedException(checks);
        }
        Set<ServerId> ejected = new HashSet<>(goal.servers());
        List<ServerId> survivors = snap.servers().stream()
                .filter(s -> s.state() == ServerState.LIVE && s.holdsData() && !ejected.contains(s.id())).map(Server::id).sorted().toList();
        checks.add(CheckResult.pass("Servers to remove", goal.servers().stream().map(ServerId::value).collect(Collectors.joining(", "))
                + " leave in one rebalance, which moves every bucket's vBuckets itself"));
        if (survivors.isEmpty()) {
            checks.add(CheckResult.block("Servers left", "a rebalance cannot remove the last data node (Couchbase: noKVNodesLeft)"));
            throw new PlanRefusedException(checks);
        }
        Map<ServerId, String> group = new HashMap<>();
        snap.servers().forEach(s -> group.put(s.id(), s.location()));
        Map<String, Integer> groupSizes = new java.util.TreeMap<>();
        survivors.forEach(id -> {
            if (group.get(id) != null) {
                groupSizes.merge(group.get(id), 1, Integer::sum);
            }
        });
        if (groupSizes.size() >= 2 && groupSizes.values().stream().distinct().count() > 1) {
            checks.add(CheckResult.warn("Server groups", "the data nodes left are uneven across server groups ("
                    + groupSizes.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", "))
                    + "): Couchbase caps the replicas by the largest group and the map cannot be even across groups"));
        }
        Map<TableId, List<Partition>> byBucket = new LinkedHashMap<>();
        snap.partitions().forEach(p -> byBucket.computeIfAbsent(p.table(), k -> new ArrayList<>()).add(p));
        List<Partition> changed = new ArrayList<>();
        List<BucketForecast> forecasts = new ArrayList<>();
        List<Step> copies = new ArrayList<>();
        int totalCopies = 0;
        int totalTakeovers = 0;
        for (Table t : snap.tables()) {
            List<Partition> vbs = byBucket.getOrDefault(t.id(), List.of());
            if (vbs.isEmpty()) {
                continue;
            }
            int wanted = t.replicationFactor() - 1;
            int kept = replicasKept(wanted, survivors, group);
            if (kept < wanted) {
                checks.add(CheckResult.warn("Replicas", "bucket " + t.name() + " keeps " + kept + " of its " + wanted
                        + " replica(s): " + survivors.size() + " data node(s) remain, and " + wanted + " replica(s) need "
                        + (wanted + 1) + (kept < survivors.size() - 1 ? " in separate server groups" : "")
                        + "; Couchbase restores them on a later rebalance once enough nodes exist"));
            } else if (wanted == 0) {
                long only = vbs.stream().filter(p -> p.replicas().stream().anyMatch(r -> ejected.contains(r.server()))).count();
                checks.add(only == 0 ? CheckResult.pass("Replicas", "bucket " + t.name() + " has no replicas and none of its vBuckets is on the nodes leaving")
                        : CheckResult.warn("Replicas", "bucket " + t.name() + " has no replicas: the rebalance moves the only copy of "
                        + only + " vBucket(s) off the nodes leaving; if a node fails meanwhile, those items are unavailable until it is back"));
            } else {
                checks.add(CheckResult.pass("Replicas", "bucket " + t.name() + " keeps all " + wanted + " replica(s) on "
                        + survivors.size() + " data nodes"));
            }
            BucketMap m = new BucketMap(vbs, survivors, kept);
            m.assign();
            changed.addAll(m.after);
            totalCopies += m.copies;
            totalTakeovers += m.takeovers;
            copies.addAll(m.copySteps);
            forecasts.add(forecast(snap, t, vbs, m.after, ejected, wanted, kept, m.copies, m.takeovers));
        }
        List<Server> remaining = snap.servers().stream().filter(s -> !ejected.contains(s.id())).toList();
        ClusterSnapshot after = snap.withReplaced(changed, remaining);
        long bytes = copies.stream().mapToLong(Step::bytes).reduce(0, Math::addExact);
        String who = goal.servers().stream().map(ServerId::value).collect(Collectors.joining(", "));
        boolean failoverFirst = goal.strategy() == RemoveServers.Strategy.FAILOVER_FIRST;
        if (failoverFirst) {
            List<String> bare = snap.tables().stream().filter(t -> t.replicationFactor() < 2 && byBucket.containsKey(t.id())).map(Table::name).toList();
            if (!bare.isEmpty()) {
                checks.add(CheckResult.block("Strategy", "a graceful failover needs a replica of every vBucket to promote; bucket(s) "
                        + String.join(", ", bare) + " have none (Couchbase: 'Failover cannot be done gracefully'): use the rebalance"));
                throw new PlanRefusedException(checks);
            }
            checks.add(CheckResult.pass("Strategy", "graceful failover of " + who + " first: their active vBuckets are handed to replicas "
                    + "on the other nodes (no data copied), so they stop serving at once; then the rebalance ejects them and rebuilds the replicas"));
        }
        int rebalancePhase = failoverFirst ? 1 : 0;
        Step step = Step.engineRebalance(rebalancePhase, goal.servers(), bytes,
                "the cluster rebalances every bucket and ejects " + who + ": about " + totalCopies + " vBucket copies to build ("
                        + Units.bytes(bytes) + ") and " + totalTakeovers + " takeovers, " + caps.maxMovesPerServer()
                        + " moves per node at a time");
        checks.add(CheckResult.warn("Strategy", "Couchbase chooses every vBucket move itself: the plan is one rebalance, "
                + "and the placement shown after it is Tabletop's prediction by the server's own rules"));
        double secs = Estimator.seconds(Planner.indexed(copies), caps, caps.maxMovesPerServer());
        Plan.Summary summary = new Plan.Summary(totalCopies, totalTakeovers, bytes, secs, caps.maxMovesPerServer());
        Phase phase = new Phase(rebalancePhase, "Rebalance out " + who, goal.servers());
        if (failoverFirst) {
            Step failover = Step.failover(0, goal.servers(), "hand their active vBuckets to replicas elsewhere before the rebalance");
            return new Plan(snap, goal, caps, List.of(new Phase(0, "Graceful failover of " + who, goal.servers()), phase),
                    List.of(failover.withIndex(0), step.withIndex(1)), checks, after, summary, forecasts);
        }
        return new Plan(snap, goal, caps, List.of(phase), List.of(step.withIndex(0)), checks, after, summary, forecasts);
    }

    /** R_eff = min(R, N'−1), and with two or more server groups no more than min over groups of (N' − |g|). */
    static int replicasKept(int wanted, List<ServerId> survivors, Map<ServerId, String> group) {
        int n = survivors.size();
        int kept = Math.min(wanted, n - 1);
        Map<String, Integer> groups = new HashMap<>();
        for (ServerId s : survivors) {
            if (group.get(s) != null) {
                groups.merge(group.get(s), 1, Integer::sum);
            }
        }
        if (groups.size() >= 2) {
            for (int size : groups.values()) {
                kept = Math.min(kept, n - size);
            }
        }
        return Math.max(0, kept);
    }

    private static BucketForecast forecast(ClusterSnapshot snap, Table t, List<Partition> before, List<Partition> after,
                                           Set<ServerId> ejected, int wanted, int kept, int copies, int takeovers) {
        Map<ServerId, long[]> acc = new LinkedHashMap<>();
        snap.servers().stream().map(Server::id).sorted().forEach(id -> acc.put(id, new long[8]));
        count(before, acc, 0);
        count(after, acc, 4);
        List<BucketForecast.Node> nodes = new ArrayList<>();
        acc.forEach((id, a) -> nodes.add(new BucketForecast.Node(id, ejected.contains(id), (int) a[0], (int) a[1], a[2], a[3],
                (int) a[4], (int) a[5], a[6], a[7])));
        return new BucketForecast(t.id(), t.name(), before.size(), wanted, kept, copies, takeovers, nodes);
    }

    private static void count(List<Partition> vbs, Map<ServerId, long[]> acc, int at) {
        for (Partition p : vbs) {
            for (Replica r : p.replicas()) {
                long[] a = acc.get(r.server());
                boolean active = r.role() == ReplicaRole.LEADER;
                a[at + (active ? 0 : 1)]++;
                a[at + (active ? 2 : 3)] += p.rowsOrZero();
            }
        }
    }

    /** The target vBucket map of one bucket. */
    private static final class BucketMap {
        final List<Partition> vbs;
        final List<ServerId> nodes;
        final int kept;
        final Map<ServerId, Integer> no = new HashMap<>();
        final List<Partition> after = new ArrayList<>();
        final List<Step> copySteps = new ArrayList<>();
        int copies;
        int takeovers;

        BucketMap(List<Partition> vbs, List<ServerId> survivors, int kept) {
            this.vbs = vbs;
            this.nodes = survivors;
            this.kept = kept;
            for (int i = 0; i < survivors.size(); i++) {
                no.put(survivors.get(i), i);
            }
        }

        /** ⌊total/n⌋ each, and one more for the {@code total mod n} nodes holding most now (then by id). */
        private int[] quotas(int total, int[] now) {
            int n = nodes.size();
            int[] q = new int[n];
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                q[i] = total / n;
                order.add(i);
            }
            order.sort(Comparator.<Integer>comparingInt(i -> -now[i]).thenComparing(i -> nodes.get(i)));
            for (int k = 0; k < total % n; k++) {
                q[order.get(k)]++;
            }
            return q;
        }

        void assign() {
            int n = nodes.size();
            int v = vbs.size();
            int[] activeNow = new int[n];
            int[] replicasNow = new int[n];
            for (Partition p : vbs) {
                for (Replica r : p.replicas()) {
                    Integer i = no.get(r.server());
                    if (i != null) {
                        if (r.role() == ReplicaRole.LEADER) {
                            activeNow[i]++;
                        } else {
                            replicasNow[i]++;
                        }
                    }
                }
            }
            int[] qa = quotas(v, activeNow);
            int[] qr = quotas(kept * v, replicasNow);
            int[] na = new int[n];
            int[] nr = new int[n];
            int[] active = new int[v];
            Arrays.fill(active, -1);
            // Actives: a surviving active keeps its vBucket up to its quota...
            for (int k = 0; k < v; k++) {
                Integer a = vbs.get(k).leader().map(no::get).orElse(null);
                if (a != null && na[a] < qa[a]) {
                    active[k] = a;
                    na[a]++;
                }
            }
            // ...then a surviving replica with room takes over, else the node with most room builds it.
            for (int k = 0; k < v; k++) {
                if (active[k] >= 0) {
                    continue;
                }
                int best = -1;
                for (Replica r : vbs.get(k).replicas()) {
                    Integer i = no.get(r.server());
                    if (i != null && r.role() != ReplicaRole.LEADER && na[i] < qa[i] && (best < 0 || qa[i] - na[i] > qa[best] - na[best])) {
                        best = i;
                    }
                }
                if (best < 0) {
                    best = mostRoom(qa, na, Set.of());
                }
                active[k] = best;
                na[best]++;
            }
            // Replicas: copies already on a survivor stay up to its quota; the rest go where there is most room.
            List<List<Integer>> reps = new ArrayList<>();
            for (int k = 0; k < v; k++) {
                List<Integer> chain = new ArrayList<>();
                for (Replica r : vbs.get(k).replicas()) {
                    Integer i = no.get(r.server());
                    if (i != null && i != active[k] && chain.size() < kept && nr[i] < qr[i]) {
                        chain.add(i);
                        nr[i]++;
                    }
                }
                reps.add(chain);
            }
            for (int k = 0; k < v; k++) {
                List<Integer> chain = reps.get(k);
                while (chain.size() < kept) {
                    Set<Integer> taken = new HashSet<>(chain);
                    taken.add(active[k]);
                    int best = mostRoom(qr, nr, taken);
                    chain.add(best);
                    nr[best]++;
                }
            }
            for (int k = 0; k < v; k++) {
                Partition p = vbs.get(k);
                Set<ServerId> old = p.replicas().stream().map(Replica::server).collect(Collectors.toSet());
                List<Replica> out = new ArrayList<>();
                out.add(new Replica(nodes.get(active[k]), ReplicaRole.LEADER));
                reps.get(k).forEach(i -> out.add(new Replica(nodes.get(i), ReplicaRole.FOLLOWER)));
                ServerId oldActive = p.leader().orElse(null);
                if (!nodes.get(active[k]).equals(oldActive)) {
                    takeovers++;
                }
                for (Replica r : out) {
                    if (!old.contains(r.server())) {
                        copies++;
                        ServerId from = oldActive != null ? oldActive : p.replicas().get(0).server();
                        copySteps.add(Step.move(0, p.id(), p.table(), from, r.server(), p.sizeOrZero(), "build copy"));
                    }
                }
                after.add(p.withReplicas(out));
            }
        }

        /** The node not in {@code taken} with most room under its quota (possibly none left: the least over), then by id. */
        private int mostRoom(int[] quota, int[] now, Set<Integer> taken) {
            int best = -1;
            for (int i = 0; i < nodes.size(); i++) {
                if (!taken.contains(i) && (best < 0 || quota[i] - now[i] > quota[best] - now[best])) {
                    best = i;
                }
            }
            if (best < 0) {
                throw new IllegalStateException("no node left for a replica: kept " + kept + " on " + nodes.size() + " nodes");
            }
            return best;
        }
    }
}
