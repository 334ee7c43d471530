package io.tabletop.planner;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.TableId;
import io.tabletop.domain.Units;
import io.tabletop.domain.Verdict;
import io.tabletop.planner.Work.IntList;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Plans the removal of servers (see {@link Planner}). One instance per plan.
 */
final class Removal {
    private final ClusterSnapshot snap;
    private final RemoveServers goal;
    private final EngineCapabilities caps;
    private final Work w;
    private final boolean[] removed;
    private final boolean[] isDest;
    /** Destinations in id order. */
    private int[] dests = new int[0];
    private ReplicaPlacer placer;
    private final List<CheckResult> checks = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private final List<Phase> phases = new ArrayList<>();
    private final List<String> locationCompromises = new ArrayList<>();
    /** Partitions whose only replica moves (an engine that cannot move a leader replica otherwise). */
    private final List<String> singleReplicaMoves = new ArrayList<>();
    /** Leader skew over the servers that are up, before anything changes. */
    private int leaderSkewBefore;

    Removal(ClusterSnapshot snap, RemoveServers goal, EngineCapabilities caps) {
        this.snap = snap;
        this.goal = goal;
        this.caps = caps;
        this.w = new Work(snap);
        this.removed = new boolean[w.servers];
        this.isDest = new boolean[w.servers];
    }

    Plan run() throws PlanRefusedException {
        for (int s = 0; s < w.servers; s++) {
            if (w.up[s]) {
                leaderSkewBefore = Math.max(leaderSkewBefore, w.leaders[s]);
            }
        }
        int fewest = Integer.MAX_VALUE;
        for (int s = 0; s < w.servers; s++) {
            if (w.up[s]) {
                fewest = Math.min(fewest, w.leaders[s]);
            }
        }
        leaderSkewBefore -= fewest == Integer.MAX_VALUE ? 0 : fewest;
        if (!checkInputs()) {
            throw new PlanRefusedException(checks);
        }
        try {
            int phase = 0;
            if (!goal.rebuild().isEmpty()) {
                planRebuild(phase++);
            }
            for (ServerId r : goal.servers()) {
                planServer(phase++, w.no(r));
            }
            if (caps.leaderTransfer()) {
                // Not asked to balance: keep the skew the cluster had, except where each leader change risks writes
                // (OpenMLDB: EngineCapabilities.leaderBalanceDefault false), where no voluntary one is made.
                List<Step> transfers = goal.balanceLeaders() ? LeaderBalance.run(w, isDest, phase)
                        : caps.leaderBalanceDefault() ? LeaderBalance.restore(w, isDest, phase, leaderSkewBefore) : List.of();
                if (!transfers.isEmpty()) {
                    phases.add(new Phase(phase, goal.balanceLeaders() ? "Balance leaders" : "Keep leader balance", ids(dests)));
                    steps.addAll(transfers);
                    if (caps.healthGates()) {
                        steps.add(Step.gate(phase, null, "cluster healthy after the leader changes"));
                    }
                }
            }
        } catch (Refusal e) {
            checks.add(CheckResult.block(e.check(), e.getMessage()));
            throw new PlanRefusedException(checks);
        }
        List<Step> indexed = Planner.indexed(steps);
        ClusterSnapshot after = PlanApplier.apply(snap, indexed);
        List<String> broken = Invariants.violations(snap, after, Stream.concat(goal.servers().stream(), goal.rebuild().stream()).toList());
        if (!broken.isEmpty()) {
            throw new IllegalStateException("planner produced an unsafe plan: " + broken.subList(0, Math.min(5, broken.size())));
        }
        addResultChecks();
        if (!singleReplicaMoves.isEmpty()) {
            checks.add(CheckResult.warn("Single replicas", singleReplicaMoves.size() + " partition(s) have one replica only ("
                    + String.join(", ", singleReplicaMoves.subList(0, Math.min(5, singleReplicaMoves.size())))
                    + (singleReplicaMoves.size() > 5 ? ", …" : "") + "): each moves through a second replica that is added, made leader, "
                    + "and then the old one dropped; around the leader change the partition is briefly unavailable and writes may be refused"));
        }
        if (checks.stream().anyMatch(c -> c.verdict() == Verdict.BLOCK)) {
            throw new PlanRefusedException(checks);
        }
        return Planner.assemble(snap, goal, caps, phases, indexed, checks, after);
    }

    /** The placer for the destinations the input checks chose. */
    private ReplicaPlacer placer() {
        if (placer == null) {
            placer = new ReplicaPlacer(w, dests, goal, locationCompromises);
        }
        return placer;
    }

    private List<ServerId> ids(int[] servers) {
        List<ServerId> out = new ArrayList<>(servers.length);
        for (int s : servers) {
            out.add(w.id(s));
        }
        return out;
    }

    // ---- inputs and feasibility ------------------------------------------------------------

    private boolean checkInputs() {
        List<String> unknown = Stream.concat(goal.servers().stream(), goal.rebuild().stream())
                .filter(id -> snap.server(id).isEmpty()).map(ServerId::value).toList();
        if (!unknown.isEmpty()) {
            checks.add(CheckResult.block("Servers to remove", "unknown server(s): " + String.join(", ", unknown)));
            return false;
        }
        for (ServerId id : goal.servers()) {
            removed[w.no(id)] = true;
        }
        String list = goal.servers().stream().map(id -> {
            int s = w.no(id);
            return id + " (" + w.server[s].address() + ", " + w.server[s].state() + ", " + w.total[s] + " replicas, "
                    + w.leaders[s] + " leaders, " + Units.bytes(w.bytes[s]) + ")";
        }).collect(Collectors.joining("; "));
        if (!goal.servers().isEmpty()) {
            checks.add(CheckResult.pass("Servers to remove", list));
        }
        if (!caps.copyFromDeadServer()) {
            List<String> stuck = new ArrayList<>();
            for (ServerId id : Stream.concat(goal.servers().stream(), goal.rebuild().stream()).toList()) {
                int s = w.no(id);
                if (!w.up[s] && w.total[s] > 0) {
                    stuck.add(id + " (" + w.total[s] + " replica row(s))");
                }
            }
            if (!stuck.isEmpty()) {
                // OpenMLDB: Migrate answers 318, RecoverTable and DelReplicaNS 303 for an offline tablet (src/docs/openmldb.md)
                checks.add(CheckResult.block("Dead servers", "offline and still listed with copies: " + String.join(", ", stuck)
                        + ". The engine refuses to move, recover or delete a copy on an offline server, and keeps listing its "
                        + "copies until it is back, so no plan can empty it. Start it again (OpenMLDB: then recoverendpoint if its "
                        + "copies were taken out of service) and re-check. Until then, OpenMLDB's offlineendpoint (with "
                        + "auto_failover off) only makes other copies lead; its rows stay listed"));
                return false;
            }
        }
        for (ServerId id : goal.rebuild()) {
            int s = w.no(id);
            if (w.up[s]) {
                checks.add(CheckResult.block("Rebuild", id + " is " + w.server[s].state() + ": only a dead server's replicas are rebuilt elsewhere"));
                return false;
            }
            checks.add(CheckResult.warn("Rebuild", id + " died: its " + w.total[s] + " replica(s) are rebuilt on the other servers first"));
        }
        List<Integer> d = new ArrayList<>();
        for (int s = 0; s < w.servers; s++) {
            if (w.live[s] && !removed[s]) {
                d.add(s);
                isDest[s] = true;
            }
        }
        d.sort(Comparator.comparing(w::id));
        dests = d.stream().mapToInt(Integer::intValue).toArray();
        if (dests.length == 0) {
            checks.add(CheckResult.block("Servers left", "no live server would remain to take the replicas"));
            return false;
        }
        // Replication factor: every table with a replica to move needs RF live servers outside the removal.
        boolean[] affected = new boolean[w.tables];
        for (ServerId id : Stream.concat(goal.servers().stream(), goal.rebuild().stream()).toList()) {
            IntList on = w.on[w.no(id)];
            for (int i = 0; i < on.size(); i++) {
                affected[w.tableOf[on.get(i)]] = true;
            }
        }
        int eligibleWithRemoved = 0;
        for (int s = 0; s < w.servers; s++) {
            if (w.live[s] || removed[s]) {
                eligibleWithRemoved++;
            }
        }
        List<String> short_ = new ArrayList<>();
        int maxRf = 0;
        List<Integer> tableOrder = new ArrayList<>();
        for (int t = 0; t < w.tables; t++) {
            tableOrder.add(t);
        }
        tableOrder.sort(Comparator.comparing(t -> w.table[t].id()));
        for (int t : tableOrder) {
            if (!affected[t]) {
                continue;
            }
            maxRf = Math.max(maxRf, w.rf[t]);
            if (dests.length < w.rf[t]) {
                short_.add(w.table[t].name() + " (RF " + w.rf[t] + ")");
            }
        }
        if (!short_.isEmpty()) {
            int canGo = Math.max(0, eligibleWithRemoved - maxRf);
            checks.add(CheckResult.block("Replication factor",
                    "only " + dests.length + " live server(s) would remain, fewer than the replication factor of "
                            + String.join(", ", short_) + "; at most " + canGo + " of the live servers can be removed"));
            return false;
        }
        checks.add(CheckResult.pass("Replication factor", dests.length
                + " live servers remain; the largest replication factor among affected tables is " + maxRf));

        List<String> deadOthers = new ArrayList<>();
        for (int s = 0; s < w.servers; s++) {
            if (w.server[s].state() == ServerState.DEAD && !removed[s] && !goal.rebuild().contains(w.id(s))) {
                deadOthers.add(w.id(s).value());
            }
        }
        if (!deadOthers.isEmpty()) {
            checks.add(CheckResult.warn("Dead servers", "not being removed but DEAD: " + String.join(", ", deadOthers)
                    + "; their replicas are unavailable, and no replica is placed on them"));
        }
        for (ServerId id : goal.servers()) {
            if (w.server[w.no(id)].state() == ServerState.DEAD) {
                checks.add(CheckResult.warn("Dead servers", id + " is DEAD: its replicas are rebuilt from the other copies"));
            }
        }
        int under = 0;
        for (int p = 0; p < w.partitions; p++) {
            int upVoters = 0;
            for (int k = w.off[p]; k < w.off[p + 1]; k++) {
                if (w.repRole[k] != Work.LEARNER && w.up[w.repServer[k]]) {
                    upVoters++;
                }
            }
            if (upVoters < w.rf[w.tableOf[p]]) {
                under++;
            }
        }
        if (under > 0) {
            checks.add(CheckResult.warn("Under-replicated partitions", under + " partition(s) have fewer live voters than their replication factor"));
        }
        return true;
    }

    // ---- one removed server -------------------------------------------------------------

    private void planServer(int phase, int r) {
        Server server = w.server[r];
        ServerId rid = server.id();
        phases.add(new Phase(phase, "Remove " + rid + " (" + server.address() + ")", List.of(rid)));
        if (phase == 0 && caps.healthGates()) {
            steps.add(Step.gate(phase, rid, "cluster healthy before anything changes"));
        }
        if (caps.maintenanceMode() && server.state() == ServerState.LIVE) {
            steps.add(Step.server(phase, StepType.ENTER_MAINTENANCE, rid, "no new replicas land on " + rid + " while it drains"));
        }
        List<Integer> mine = largestFirst(r);
        // Leaders first: cheap, and the engine moves a follower more gently than a leader. An engine that
        // cannot move a leader replica at all (OpenMLDB) must change the leader first.
        for (int p : mine) {
            if (w.role(p, r) == Work.LEADER) {
                if (caps.leaderTransfer() && transferLeaderOff(phase, p, r)) {
                    continue;
                }
                if (!caps.moveLeaderReplicas() && caps.moveSingleReplica() && w.part[p].replicas().size() == 1) {
                    singleReplicaMoves.add(w.part[p].id().value());
                    continue;
                }
                if (!caps.moveLeaderReplicas()) {
                    throw new Refusal("Leaders", "partition " + w.part[p].id() + " is led by " + rid
                            + " and has no follower that can take over; this engine cannot move a leader replica");
                }
            }
        }
        for (ReplicaPlacer.PlannedMove m : placer().placeAll(mine, r)) {
            steps.add(Step.move(phase, w.part[m.p].id(), w.part[m.p].table(), w.id(m.from), w.id(m.to), w.size[m.p], m.reason));
        }
        if (caps.healthGates()) {
            steps.add(Step.gate(phase, rid, "every replica is off " + rid + " and the cluster is healthy"));
        }
        if (caps.stopServerStep() && server.state().isUp()) {
            steps.add(Step.server(phase, StepType.STOP_SERVER, rid, rid + " holds nothing now; stop it and keep it stopped"));
        }
        if (caps.unregister()) {
            steps.add(Step.server(phase, StepType.UNREGISTER_SERVER, rid, "the masters forget " + rid + " without a restart"));
            if (caps.healthGates()) {
                steps.add(Step.gate(phase, rid, "cluster healthy without " + rid));
            }
        }
    }

    /** The partitions on {@code server}, by table, largest first, then by id: the order replicas are placed in. */
    private List<Integer> largestFirst(int server) {
        List<Integer> mine = new ArrayList<>();
        IntList on = w.partitionsOn(server);
        for (int i = 0; i < on.size(); i++) {
            mine.add(on.get(i));
        }
        mine.sort(Comparator.<Integer, TableId>comparing(p -> w.part[p].table())
                .thenComparing(Comparator.<Integer>comparingLong(p -> w.size[p]).reversed())
                .thenComparing(p -> w.part[p].id()));
        return mine;
    }

    /** The replicas of servers that died go to the other servers, placed as a drain would place them. */
    private void planRebuild(int phase) {
        List<ServerId> ids = goal.rebuild();
        String names = ids.stream().map(ServerId::value).collect(Collectors.joining(", "));
        phases.add(new Phase(phase, "Rebuild the replicas of " + names + " (dead)", ids));
        for (ServerId id : ids) {
            int d = w.no(id);
            for (ReplicaPlacer.PlannedMove m : placer().placeAll(largestFirst(d), d)) {
                steps.add(Step.move(phase, w.part[m.p].id(), w.part[m.p].table(), w.id(m.from), w.id(m.to), w.size[m.p],
                        "rebuilds the copy lost with " + id + "; " + m.reason));
            }
        }
        if (caps.healthGates()) {
            steps.add(Step.gate(phase, ids.get(0), "every copy on " + names + " rebuilt and the cluster healthy"));
        }
    }

    private boolean transferLeaderOff(int phase, int p, int r) {
        int best = -1;
        for (int k = w.off[p]; k < w.off[p + 1]; k++) {
            int s = w.repServer[k];
            if (w.repRole[k] != Work.FOLLOWER || removed[s] || !w.up[s]) {
                continue;
            }
            if (best < 0 || w.compareForLeadership(s, best) < 0) {
                best = s;
            }
        }
        if (best < 0) {
            return false;
        }
        w.transfer(p, r, best);
        steps.add(Step.transfer(phase, w.part[p].id(), w.part[p].table(), w.id(r), w.id(best),
                w.id(best) + ": the follower whose server leads least (" + (w.leaders[best] - 1) + " leaders)"));
        return true;
    }

    private void addResultChecks() {
        boolean anyCapacity = false;
        for (int d : dests) {
            Server s = w.server[d];
            if (s.hasCapacity()) {
                anyCapacity = true;
                double fill = (double) w.used[d] / s.capacityBytes();
                if (fill > 0.75) {
                    checks.add(CheckResult.warn("Destination capacity", s.id() + " ends at " + Math.round(fill * 100)
                            + "% of its capacity (limit " + Math.round(goal.fillLimit() * 100) + "%)"));
                }
            }
        }
        if (checks.stream().noneMatch(c -> c.name().equals("Destination capacity"))) {
            checks.add(CheckResult.pass("Destination capacity", anyCapacity
                    ? "every destination stays below " + Math.round(goal.fillLimit() * 100) + "% of its capacity"
                    : "capacity unknown for this cluster; replica bytes are balanced instead"));
        }
        if (snap.hasLocations()) {
            Map<String, Integer> servers = new LinkedHashMap<>();
            Map<String, Integer> reps = new LinkedHashMap<>();
            for (int d : dests) {
                String loc = w.location[d] == null ? "(none)" : w.location[d];
                servers.merge(loc, 1, Integer::sum);
                reps.merge(loc, w.total[d], Integer::sum);
            }
            String spread = servers.keySet().stream().sorted()
                    .map(l -> String.format(Locale.ROOT, "%s %.0f/server", l, (double) reps.get(l) / servers.get(l)))
                    .collect(Collectors.joining(", "));
            double min = servers.keySet().stream().mapToDouble(l -> (double) reps.get(l) / servers.get(l)).min().orElse(0);
            double max = servers.keySet().stream().mapToDouble(l -> (double) reps.get(l) / servers.get(l)).max().orElse(0);
            if (!locationCompromises.isEmpty()) {
                checks.add(CheckResult.warn("Location spread", locationCompromises.size()
                        + " partition(s) end with a majority of replicas in one location because no other location could take them: "
                        + String.join(", ", locationCompromises.subList(0, Math.min(5, locationCompromises.size())))
                        + (locationCompromises.size() > 5 ? ", …" : "")));
            } else if (max > 1.25 * min && min >= 0) {
                checks.add(CheckResult.warn("Location spread", "no location holds a majority of any partition, but load per server becomes uneven across locations ("
                        + spread + "): the placement rule keeps each replica in its own location"));
            } else {
                checks.add(CheckResult.pass("Location spread", "no location holds a majority of any partition; " + spread));
            }
        }
        int minR = Integer.MAX_VALUE;
        int maxR = Integer.MIN_VALUE;
        int minL = Integer.MAX_VALUE;
        int maxL = Integer.MIN_VALUE;
        for (int d : dests) {
            minR = Math.min(minR, w.total[d]);
            maxR = Math.max(maxR, w.total[d]);
            minL = Math.min(minL, w.leaders[d]);
            maxL = Math.max(maxL, w.leaders[d]);
        }
        String balance = "replicas per server " + minR + "–" + maxR + ", leaders per server " + minL + "–" + maxL;
        if (!goal.balanceLeaders() && maxL - minL > leaderSkewBefore) {
            checks.add(CheckResult.warn("Leader balance", "leader skew " + leaderSkewBefore + " → " + (maxL - minL)
                    + ": the removed servers' leaders have no followers that could keep it; turn on balancing leaders"));
        }
        boolean locationBound = checks.stream().anyMatch(c -> c.name().equals("Location spread") && c.verdict() == Verdict.WARN);
        checks.add(maxR - minR <= 1
                ? CheckResult.pass("Balance after", balance)
                : CheckResult.warn("Balance after", balance + (locationBound
                ? ": the location rule above keeps the spread from being closer"
                : ": only the removed servers' replicas move, and the rest of the cluster was uneven already")));
    }
}
