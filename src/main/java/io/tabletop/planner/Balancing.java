package io.tabletop.planner;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Plans {@link Rebalance} and {@link ScaleOut}: replica moves that even each table's counts out first
 * (as Kudu's rebalancer does), then total counts, then leaders by transfers only. Each replica move lowers
 * a table's skew, or keeps every table's spread and lowers the totals' skew; no move that does neither.
 * Moves go from the most-loaded allowed source to the least-loaded allowed destination that can take the
 * partition (not holding it, under the fill limit, no location majority), a follower rather than a leader,
 * and a leader only after handing leadership to another follower where the engine can.
 */
final class Balancing {
    private static final double FILL_LIMIT = RemoveServers.DEFAULT_FILL_LIMIT;
    private final ClusterSnapshot snap;
    private final Goal goal;
    private final EngineCapabilities caps;
    private final Work w;
    private final boolean[] src;
    private final boolean[] dst;
    private final boolean[] live;
    private final List<CheckResult> checks = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private final List<Phase> phases = new ArrayList<>();
    private boolean[] stuck;
    /** Partitions whose only replica moves (an engine that cannot move a leader replica otherwise). */
    private final List<String> singleReplicaMoves = new ArrayList<>();
    private int moves;
    /** When set, {@link #move} only reports that a move exists. */
    private boolean probe;

    Balancing(ClusterSnapshot snap, Goal goal, EngineCapabilities caps) {
        this.snap = snap;
        this.goal = goal;
        this.caps = caps;
        this.w = new Work(snap);
        this.src = new boolean[w.servers];
        this.dst = new boolean[w.servers];
        this.live = new boolean[w.servers];
    }

    Plan run() throws PlanRefusedException {
        int maxMoves;
        boolean leadersToo;
        String title;
        List<ServerId> phaseServers = new ArrayList<>();
        for (int s = 0; s < w.servers; s++) {
            live[s] = w.live[s];
        }
        if (goal instanceof ScaleOut so) {
            List<String> problems = new ArrayList<>();
            for (ServerId id : so.newServers()) {
                Integer s = w.serverNo.get(id);
                if (s == null) {
                    problems.add("unknown server " + id);
                } else if (w.server[s].state() != ServerState.LIVE) {
                    problems.add(id + " is " + w.server[s].state() + " and cannot take replicas");
                } else {
                    dst[s] = true;
                    phaseServers.add(id);
                }
            }
            if (!problems.isEmpty()) {
                checks.add(CheckResult.block("New servers", String.join("; ", problems)));
                throw new PlanRefusedException(checks);
            }
            for (int s = 0; s < w.servers; s++) {
                src[s] = live[s] && !dst[s];
            }
            maxMoves = Integer.MAX_VALUE;
            leadersToo = so.balanceLeaders();
            title = "Scale out onto " + phaseServers.stream().map(ServerId::value).collect(Collectors.joining(", "));
            checks.add(CheckResult.pass("New servers", phaseServers.stream().map(id -> id + " (" + w.total[w.no(id)]
                    + " replicas)").collect(Collectors.joining(", ")) + " take replicas; replicas move between the others only where the new servers cannot even the cluster out"));
        } else {
            Rebalance rb = (Rebalance) goal;
            for (int s = 0; s < w.servers; s++) {
                src[s] = live[s];
                dst[s] = live[s];
                if (live[s]) {
                    phaseServers.add(w.id(s));
                }
            }
            maxMoves = rb.maxMoves();
            leadersToo = rb.balanceLeaders();
            title = "Rebalance";
            checks.add(CheckResult.pass("Servers", phaseServers.size() + " live servers take part"
                    + (maxMoves == Integer.MAX_VALUE ? "" : "; at most " + maxMoves + " replica moves")));
        }
        int sources = 0;
        for (int s = 0; s < w.servers; s++) {
            sources += src[s] ? 1 : 0;
        }
        if (phaseServers.size() + (goal instanceof ScaleOut ? sources : 0) < 2) {
            checks.add(CheckResult.block("Servers", "fewer than two live servers: nothing to balance between"));
            throw new PlanRefusedException(checks);
        }
        int[] before = skews();
        stuck = new boolean[w.tables];
        if (caps.healthGates()) {
            steps.add(Step.gate(0, null, "cluster healthy before anything changes"));
        }
        int firstMove = steps.size();
        while (moves < maxMoves && (tableMove() || totalMove())) {
            moves++;
        }
        if (goal instanceof ScaleOut so) {
            if (replicaSkew() > 1) {
                // An old server whose every table already holds no more than the new servers' share cannot give
                // them one more: a move between the old ones evens the totals, as Kudu's rebalancer would make it.
                for (int s = 0; s < w.servers; s++) {
                    dst[s] = live[s];
                }
                while (totalMove()) {
                    moves++;
                }
            }
            long between = steps.stream().filter(x -> x.type() == StepType.MOVE_REPLICA && !so.newServers().contains(x.to())).count();
            if (between > 0) {
                checks.add(CheckResult.pass("Between the others", between + " replica move(s) between the servers already in the cluster: "
                        + "an old server held fewer of a table than its even share, or the totals could not be evened onto the new servers alone"));
            }
        }
        boolean moved = steps.size() > firstMove;
        // Leader transfers share the moves' phase: the scheduler starts each one as soon as its partition's
        // move (if any) is done and its servers have a free slot, so they overlap the moves still running
        // instead of waiting behind a gate. A leader replica only ever moves after its own planned hand-over,
        // so who leads after the moves is known when the transfers are planned.
        List<Step> transfers = leadersToo && caps.leaderTransfer() ? earlierHandOvers(LeaderBalance.run(w, live, 0), firstMove) : List.of();
        if (moved || !transfers.isEmpty()) {
            phases.add(new Phase(0, moved ? title : "Balance leaders", moved ? phaseServers : liveIds()));
            interleave(firstMove, transfers);
            if (caps.healthGates()) {
                steps.add(Step.gate(0, null, moved ? "every move done and the cluster healthy" : "cluster healthy after the leader changes"));
            }
        } else {
            steps.clear();
        }
        List<Step> indexed = Planner.indexed(steps);
        ClusterSnapshot after = PlanApplier.apply(snap, indexed);
        List<String> broken = Invariants.violations(snap, after, List.of());
        if (!broken.isEmpty()) {
            throw new IllegalStateException("planner produced an unsafe plan: " + broken.subList(0, Math.min(5, broken.size())));
        }
        int[] now = skews();
        String change = change(before, now);
        if (!singleReplicaMoves.isEmpty()) {
            checks.add(CheckResult.warn("Single replicas", singleReplicaMoves.size() + " partition(s) with one replica move ("
                    + String.join(", ", singleReplicaMoves.subList(0, Math.min(5, singleReplicaMoves.size())))
                    + (singleReplicaMoves.size() > 5 ? ", …" : "") + "), each through a second replica that is added, made leader, "
                    + "and then the old one dropped; around the leader change the partition is briefly unavailable"));
        }
        if (indexed.isEmpty()) {
            checks.add(CheckResult.pass("Balance", "already as even as moves can make it (largest table skew " + now[0]
                    + ", replica skew " + now[1] + ", leader skew " + now[2] + "): nothing to do"));
        } else if (moves >= maxMoves && moreWouldHelp()) {
            checks.add(CheckResult.warn("Balance", "stopped at the bound of " + maxMoves + " moves: " + change
                    + "; more moves would even it further"));
        } else if (replicaSkew() > 1) {
            checks.add(CheckResult.warn("Balance", change + ": as even as moves can make it here; "
                    + (snap.hasLocations() ? "the location rule (no location holds a majority of a partition) and " : "")
                    + "the rule of one replica per server limit the rest"));
        } else {
            checks.add(CheckResult.pass("Balance", change));
        }
        return Planner.assemble(snap, goal, caps, phases, indexed, checks, after);
    }

    /**
     * Puts each transfer right after the last step of its partition, and the transfers of partitions that
     * no step touches before the moves: in plan order, which is the order the scheduler prefers when a
     * server's slot frees, a hand-over goes as soon as it can instead of after every move. Each partition's
     * own steps keep their order, so the end state is the same.
     */
    private void interleave(int firstMove, List<Step> transfers) {
        Map<PartitionId, List<Step>> byPartition = new LinkedHashMap<>();
        transfers.forEach(t -> byPartition.computeIfAbsent(t.partition(), k -> new ArrayList<>()).add(t));
        Map<PartitionId, Integer> last = lastSteps(firstMove);
        List<Step> out = new ArrayList<>(steps.subList(0, firstMove));
        byPartition.forEach((p, ts) -> {
            if (!last.containsKey(p)) {
                out.addAll(ts);
            }
        });
        for (int i = firstMove; i < steps.size(); i++) {
            Step s = steps.get(i);
            out.add(s);
            if (s.partition() != null && last.get(s.partition()) == i) {
                out.addAll(byPartition.getOrDefault(s.partition(), List.of()));
            }
        }
        steps.clear();
        steps.addAll(out);
    }

    /**
     * A transfer waits for its partition's moves, so one on a partition moved late keeps the run going after its
     * last move. Where another partition would do the same (led by the same giver, followed by the same taker),
     * moved earlier or not at all, the hand-over is made there instead: every server leads as many as before.
     * The latest are looked at first; a partition with more than one transfer keeps them.
     */
    private List<Step> earlierHandOvers(List<Step> transfers, int firstMove) {
        int[] last = lastMoves(firstMove);
        Map<PartitionId, Integer> no = new HashMap<>();
        for (int p = 0; p < w.partitions; p++) {
            no.put(w.part[p].id(), p);
        }
        Map<Integer, Integer> count = new HashMap<>();
        transfers.forEach(t -> count.merge(no.get(t.partition()), 1, Integer::sum));
        List<Step> out = new ArrayList<>(transfers);
        List<Integer> latestFirst = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            latestFirst.add(i);
        }
        latestFirst.sort(Comparator.comparingInt(i -> -last[no.get(out.get(i).partition())]));
        for (int i : latestFirst) {
            Step t = out.get(i);
            int p = no.get(t.partition());
            int from = w.no(t.from());
            int to = w.no(t.to());
            if (last[p] < 0 || count.get(p) != 1 || w.leaderOf(p) != to) {
                continue;
            }
            int best = -1;
            Work.IntList on = w.on[to];
            for (int k = 0; k < on.size(); k++) {
                int q = on.get(k);
                if (count.containsKey(q) || last[q] >= last[p] || (best >= 0 && last[q] >= last[best])) {
                    continue;
                }
                int slot = w.slot(q, to);
                if (slot >= 0 && w.repRole[slot] == Work.FOLLOWER && w.leaderOf(q) == from) {
                    best = q;
                }
            }
            if (best >= 0) {
                w.transfer(p, to, from);
                w.transfer(best, from, to);
                count.remove(p);
                count.put(best, 1);
                out.set(i, Step.transfer(t.phase(), w.part[best].id(), w.part[best].table(), t.from(), t.to(), t.reason()));
            }
        }
        return out;
    }

    /** The plan position of each partition's last step from {@code firstMove} on. */
    private Map<PartitionId, Integer> lastSteps(int firstMove) {
        Map<PartitionId, Integer> at = new HashMap<>();
        for (int i = firstMove; i < steps.size(); i++) {
            if (steps.get(i).partition() != null) {
                at.put(steps.get(i).partition(), i);
            }
        }
        return at;
    }

    /** Per partition number: the plan position of its last step from {@code firstMove} on, or -1. */
    private int[] lastMoves(int firstMove) {
        Map<PartitionId, Integer> at = lastSteps(firstMove);
        int[] out = new int[w.partitions];
        for (int p = 0; p < w.partitions; p++) {
            out[p] = at.getOrDefault(w.part[p].id(), -1);
        }
        return out;
    }

    private int replicaSkew() {
        int lo = Integer.MAX_VALUE;
        int hi = Integer.MIN_VALUE;
        for (int s = 0; s < w.servers; s++) {
            if (live[s]) {
                lo = Math.min(lo, w.total[s]);
                hi = Math.max(hi, w.total[s]);
            }
        }
        return hi - lo;
    }

    private boolean moreWouldHelp() {
        probe = true;
        boolean more = tableMove() || totalMove();
        probe = false;
        return more;
    }

    private List<ServerId> liveIds() {
        List<ServerId> out = new ArrayList<>();
        for (int s = 0; s < w.servers; s++) {
            if (live[s]) {
                out.add(w.id(s));
            }
        }
        return out;
    }

    /** "largest table skew a → a', replica skew b → b', leader skew c → c'" over the live servers. */
    private static String change(int[] before, int[] after) {
        return "largest table skew " + before[0] + " → " + after[0] + ", replica skew " + before[1] + " → " + after[1]
                + ", leader skew " + before[2] + " → " + after[2];
    }

    /** {largest table skew, replica skew, leader skew} over the live servers. */
    private int[] skews() {
        int tableSkew = 0;
        for (int t = 0; t < w.tables; t++) {
            int lo = Integer.MAX_VALUE;
            int hi = Integer.MIN_VALUE;
            for (int s = 0; s < w.servers; s++) {
                if (live[s]) {
                    lo = Math.min(lo, w.perTable(s, t));
                    hi = Math.max(hi, w.perTable(s, t));
                }
            }
            tableSkew = Math.max(tableSkew, hi - lo);
        }
        int rlo = Integer.MAX_VALUE;
        int rhi = Integer.MIN_VALUE;
        int llo = Integer.MAX_VALUE;
        int lhi = Integer.MIN_VALUE;
        for (int s = 0; s < w.servers; s++) {
            if (live[s]) {
                rlo = Math.min(rlo, w.total[s]);
                rhi = Math.max(rhi, w.total[s]);
                llo = Math.min(llo, w.leaders[s]);
                lhi = Math.max(lhi, w.leaders[s]);
            }
        }
        return new int[]{tableSkew, rhi - rlo, lhi - llo};
    }

    /** One move that lowers the most skewed table's spread; false when no table can be evened further. */
    private boolean tableMove() {
        while (true) {
            int best = -1;
            int bestSkew = 1;
            for (int t = 0; t < w.tables; t++) {
                if (stuck[t]) {
                    continue;
                }
                int hi = Integer.MIN_VALUE;
                int lo = Integer.MAX_VALUE;
                boolean[] takers = takers(t);
                for (int s = 0; s < w.servers; s++) {
                    if (src[s]) {
                        hi = Math.max(hi, w.perTable(s, t));
                    }
                    if (takers[s]) {
                        lo = Math.min(lo, w.perTable(s, t));
                    }
                }
                if (hi - lo > bestSkew) {
                    best = t;
                    bestSkew = hi - lo;
                }
            }
            if (best < 0) {
                return false;
            }
            int t = best;
            List<Integer> his = servers(src, Comparator.<Integer>comparingInt(s -> -w.perTable(s, t)).thenComparingInt(s -> -w.total[s]));
            List<Integer> los = servers(takers(t), Comparator.<Integer>comparingInt(s -> w.perTable(s, t)).thenComparingInt(s -> w.total[s]));
            for (int hi : his) {
                for (int lo : los) {
                    if (w.perTable(hi, t) - w.perTable(lo, t) < 2) {
                        break;
                    }
                    int p = pick(hi, lo, t);
                    if (p >= 0) {
                        String name = w.table[t].name();
                        move(p, hi, lo, "evens table " + name + ": " + w.id(hi) + " holds " + w.perTable(hi, t) + ", "
                                + w.id(lo) + " " + w.perTable(lo, t) + " (→ " + (w.perTable(hi, t) - 1) + " and " + (w.perTable(lo, t) + 1) + ")");
                        return true;
                    }
                }
            }
            stuck[t] = true; // no partition of this table can move to a server that needs it
        }
    }

    /**
     * The servers that may take a replica of table {@code t}: the destinations, and in a scale-out also an old
     * server holding fewer of the table than its even share (rounded down). Moves onto the new servers alone
     * can never lift such a server, so the table would stay two apart; Kudu's rebalancer moves one there too.
     */
    private boolean[] takers(int t) {
        if (!(goal instanceof ScaleOut)) {
            return dst;
        }
        int n = 0;
        int sum = 0;
        for (int s = 0; s < w.servers; s++) {
            if (live[s]) {
                n++;
                sum += w.perTable(s, t);
            }
        }
        int floor = n == 0 ? 0 : sum / n;
        boolean[] out = dst.clone();
        for (int s = 0; s < w.servers; s++) {
            out[s] |= live[s] && w.perTable(s, t) < floor;
        }
        return out;
    }

    /** One move from a fuller to an emptier server in a table where the giver holds more: totals even out, tables keep their spread. */
    private boolean totalMove() {
        List<Integer> his = servers(src, Comparator.comparingInt(s -> -w.total[s]));
        List<Integer> los = servers(dst, Comparator.comparingInt(s -> w.total[s]));
        for (int hi : his) {
            for (int lo : los) {
                if (w.total[hi] - w.total[lo] < 2) {
                    break;
                }
                List<Integer> tables = new ArrayList<>();
                for (int t = 0; t < w.tables; t++) {
                    if (w.perTable(hi, t) > w.perTable(lo, t)) {
                        tables.add(t);
                    }
                }
                tables.sort(Comparator.comparingInt(t -> -(w.perTable(hi, t) - w.perTable(lo, t))));
                for (int t : tables) {
                    int p = pick(hi, lo, t);
                    if (p >= 0) {
                        move(p, hi, lo, "evens totals: " + w.id(hi) + " " + w.total[hi] + " → " + (w.total[hi] - 1) + ", "
                                + w.id(lo) + " " + w.total[lo] + " → " + (w.total[lo] + 1) + "; table " + w.table[t].name() + " stays as even");
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private List<Integer> servers(boolean[] which, Comparator<Integer> order) {
        List<Integer> out = new ArrayList<>();
        for (int s = 0; s < w.servers; s++) {
            if (which[s]) {
                out.add(s);
            }
        }
        out.sort(order.thenComparing(w::id));
        return out;
    }

    /**
     * The replica of table {@code t} on {@code hi} to move to {@code lo}: allowed there, a follower before a
     * leader, and the larger one while {@code hi} holds more bytes (else the smaller), then by id.
     */
    private int pick(int hi, int lo, int t) {
        int best = -1;
        boolean bestLeader = true;
        boolean preferLarge = w.bytes[hi] > w.bytes[lo];
        Work.IntList on = w.on[hi];
        for (int i = 0; i < on.size(); i++) {
            int p = on.get(i);
            if (w.tableOf[p] != t) {
                continue;
            }
            int k = w.slot(p, hi);
            if (k < 0 || w.repRole[k] == Work.LEARNER || w.isOn(p, lo) || !w.fits(lo, p, FILL_LIMIT)
                    || w.violatesLocation(p, hi, lo)) {
                continue;
            }
            boolean leader = w.repRole[k] == Work.LEADER;
            if (leader && !(caps.leaderTransfer() && newLeader(p, hi, lo) >= 0) && !caps.moveLeaderReplicas()
                    && !(caps.moveSingleReplica() && w.part[p].replicas().size() == 1)) {
                continue;
            }
            if (best < 0 || better(p, leader, best, bestLeader, preferLarge)) {
                best = p;
                bestLeader = leader;
            }
        }
        return best;
    }

    private boolean better(int p, boolean leader, int best, boolean bestLeader, boolean preferLarge) {
        if (leader != bestLeader) {
            return !leader;
        }
        if (w.size[p] != w.size[best]) {
            return preferLarge == (w.size[p] > w.size[best]);
        }
        return w.part[p].id().compareTo(w.part[best].id()) < 0;
    }

    /** The follower of {@code p} that should lead instead of {@code hi}, not {@code lo}; -1 if none. */
    private int newLeader(int p, int hi, int lo) {
        int best = -1;
        for (int k = w.off[p]; k < w.off[p + 1]; k++) {
            int s = w.repServer[k];
            if (s != hi && s != lo && w.repRole[k] == Work.FOLLOWER && w.up[s] && (best < 0 || w.compareForLeadership(s, best) < 0)) {
                best = s;
            }
        }
        return best;
    }

    private void move(int p, int hi, int lo, String reason) {
        if (probe) {
            return;
        }
        if (w.role(p, hi) == Work.LEADER && caps.leaderTransfer()) {
            int f = newLeader(p, hi, lo);
            if (f >= 0) {
                w.transfer(p, hi, f);
                steps.add(Step.transfer(0, w.part[p].id(), w.part[p].table(), w.id(hi), w.id(f),
                        w.id(f) + " leads instead, so that a follower moves (" + (caps.moveLeaderReplicas()
                                ? "the engine moves a follower more gently" : "this engine moves followers only") + ")"));
            }
        }
        if (!caps.moveLeaderReplicas() && w.part[p].replicas().size() == 1) {
            singleReplicaMoves.add(w.part[p].id().value());
        }
        w.move(p, hi, lo);
        steps.add(Step.move(0, w.part[p].id(), w.part[p].table(), w.id(hi), w.id(lo), w.size[p], reason));
    }
}
