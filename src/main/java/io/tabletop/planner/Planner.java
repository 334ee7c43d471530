package io.tabletop.planner;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.Verdict;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Step;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;
import io.tabletop.domain.Units;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Turns a snapshot and a goal into a plan. A pure, deterministic function: no I/O, no clock, no
 * randomness; the same input gives the same plan in the same order. Thread-safe (stateless).
 *
 * <h2>Removal</h2>
 * Exactly the replicas on the removed servers move, no others. Servers go one per phase when the engine
 * asks for it (Kudu's admin docs: one tserver at a time). Within a phase:
 * <ol>
 *   <li>the server enters maintenance mode, so that nothing new lands on it;</li>
 *   <li>each partition it leads hands leadership to the follower whose server leads least;</li>
 *   <li>each of its replicas goes to the destination that is, in this order: allowed (live, not being
 *       removed, not holding the partition, under the fill limit), not giving one location a majority of
 *       the partition's replicas where that can be avoided, holding the fewest replicas of that table,
 *       the fewest replicas in total, the fewest bytes, and first by id. Replicas are placed largest
 *       first within each table so that bytes even out as well;</li>
 *   <li>a health gate, then stop and unregister the server, and a health gate again.</li>
 * </ol>
 * An optional last phase evens leaders out with transfers only.
 */
public final class Planner {

    /** Plans the goal, or refuses with the checks that block it. */
    public Plan plan(ClusterSnapshot snapshot, Goal goal, EngineCapabilities caps) throws PlanRefusedException {
        if (goal instanceof RemoveServers r && r.strategy() == RemoveServers.Strategy.ENGINE) {
            return engineDrain(snapshot, r, caps);
        }
        if (goal instanceof RemoveServers r) {
            return new Removal(snapshot, r, caps).run();
        }
        throw new IllegalArgumentException("unsupported goal " + goal);
    }

    /**
     * The engine empties each server itself (Kudu: {@code cluster rebalance --ignored_tservers=U
     * --move_replicas_from_ignored_tservers}), one server per phase with the same gates, maintenance,
     * stop and unregister. The engine picks destinations and does not balance leaders; the predicted
     * placement shown is Tabletop's own plan without its leader phase, and the checks say so.
     */
    private Plan engineDrain(ClusterSnapshot snapshot, RemoveServers goal, EngineCapabilities caps) throws PlanRefusedException {
        RemoveServers ours = new RemoveServers(goal.servers(), false, goal.fillLimit(), RemoveServers.Strategy.TABLETOP);
        Plan base = new Removal(snapshot, ours, caps).run();
        List<CheckResult> checks = new ArrayList<>(base.checks());
        if (!caps.engineDrain()) {
            checks.add(CheckResult.block("Strategy", "this engine cannot empty a server by itself; use Tabletop's plan"));
            throw new PlanRefusedException(checks);
        }
        checks.add(CheckResult.warn("Strategy", "the engine's rebalancer chooses the destinations and does not balance leaders: "
                + "the moves and the 'after' placement shown are Tabletop's prediction, not what the engine will do, and it "
                + "usually makes extra moves to even out afterwards"));
        List<Step> steps = new ArrayList<>();
        for (Phase ph : base.phases()) {
            for (Step s : base.stepsOfPhase(ph.index())) {
                switch (s.type()) {
                    case TRANSFER_LEADER -> {
                    }
                    case MOVE_REPLICA -> {
                        if (steps.stream().noneMatch(x -> x.type() == StepType.ENGINE_REBALANCE && x.phase() == ph.index())) {
                            long bytes = base.stepsOfPhase(ph.index()).stream().mapToLong(Step::bytes).sum();
                            long moves = base.stepsOfPhase(ph.index()).stream().filter(x -> x.type() == StepType.MOVE_REPLICA).count();
                            ServerId r = ph.servers().get(0);
                            steps.add(new Step(-1, ph.index(), StepType.ENGINE_REBALANCE, null, null, null, null, r, bytes,
                                    "the engine's rebalancer empties " + r + " (" + moves + " replicas) and then evens out the rest"));
                        }
                    }
                    default -> steps.add(s);
                }
            }
        }
        List<Step> indexed = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            indexed.add(steps.get(i).withIndex(i));
        }
        Plan.Summary b = base.summary();
        // The engine keeps about 3 replacements per emptied server in flight at max_moves_per_server=5 (research/kudu.md 2.8).
        double secs = Estimator.seconds(base.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).toList(), caps, 3);
        Plan.Summary summary = new Plan.Summary(b.replicaMoves(), 0, b.bytesToMove(), secs, b.maxMovesPerServer());
        List<Phase> phases = base.phases().stream().filter(p -> !p.title().equals("Balance leaders")).toList();
        return new Plan(snapshot, goal, caps, phases, indexed, checks, base.after(), summary);
    }

    /** The checks alone, whether or not the plan is possible. */
    public List<CheckResult> preChecks(ClusterSnapshot snapshot, Goal goal, EngineCapabilities caps) {
        try {
            return plan(snapshot, goal, caps).checks();
        } catch (PlanRefusedException e) {
            return e.checks();
        }
    }

    private static final class Removal {
        private final ClusterSnapshot snap;
        private final RemoveServers goal;
        private final EngineCapabilities caps;
        private final Set<ServerId> removed;
        private final List<Server> destinations = new ArrayList<>();
        private final Map<PartitionId, List<Replica>> placement = new LinkedHashMap<>();
        private final Map<ServerId, Integer> total = new HashMap<>();
        private final Map<ServerId, Integer> leaders = new HashMap<>();
        private final Map<ServerId, Long> bytes = new HashMap<>();
        private final Map<ServerId, Long> used = new HashMap<>();
        private final Map<ServerId, Map<TableId, Integer>> perTable = new HashMap<>();
        private final List<CheckResult> checks = new ArrayList<>();
        private final List<Step> steps = new ArrayList<>();
        private final List<Phase> phases = new ArrayList<>();
        private final List<String> locationCompromises = new ArrayList<>();

        Removal(ClusterSnapshot snap, RemoveServers goal, EngineCapabilities caps) {
            this.snap = snap;
            this.goal = goal;
            this.caps = caps;
            this.removed = new LinkedHashSet<>(goal.servers());
        }

        Plan run() throws PlanRefusedException {
            if (!checkInputs()) {
                throw new PlanRefusedException(checks);
            }
            initState();
            try {
                int phase = 0;
                for (ServerId r : goal.servers()) {
                    planServer(phase++, r);
                }
                if (goal.balanceLeaders() && caps.leaderTransfer()) {
                    planLeaderBalance(phase);
                }
            } catch (Refusal e) {
                checks.add(CheckResult.block(e.check, e.getMessage()));
                throw new PlanRefusedException(checks);
            }
            List<Step> indexed = new ArrayList<>(steps.size());
            for (int i = 0; i < steps.size(); i++) {
                indexed.add(steps.get(i).withIndex(i));
            }
            ClusterSnapshot after = PlanApplier.apply(snap, indexed);
            List<String> broken = Invariants.violations(snap, after, removed);
            if (!broken.isEmpty()) {
                throw new IllegalStateException("planner produced an unsafe plan: " + broken);
            }
            addResultChecks(after);
            if (checks.stream().anyMatch(c -> c.verdict() == Verdict.BLOCK)) {
                throw new PlanRefusedException(checks);
            }
            int moves = (int) indexed.stream().filter(s -> s.type() == StepType.MOVE_REPLICA).count();
            int transfers = (int) indexed.stream().filter(s -> s.type() == StepType.TRANSFER_LEADER).count();
            long data = indexed.stream().mapToLong(Step::bytes).sum();
            double secs = Estimator.seconds(indexed, caps, caps.maxMovesPerServer());
            Plan.Summary summary = new Plan.Summary(moves, transfers, data, secs, caps.maxMovesPerServer());
            return new Plan(snap, goal, caps, phases, indexed, checks, after, summary);
        }

        // ---- inputs and feasibility ------------------------------------------------------------

        private boolean checkInputs() {
            List<String> unknown = removed.stream().filter(id -> snap.server(id).isEmpty()).map(ServerId::value).toList();
            if (!unknown.isEmpty()) {
                checks.add(CheckResult.block("Servers to remove", "unknown server(s): " + String.join(", ", unknown)));
                return false;
            }
            Map<ServerId, ServerLoad> loads = snap.loads();
            String list = removed.stream().map(id -> {
                Server s = snap.server(id).orElseThrow();
                ServerLoad l = loads.get(id);
                return id + " (" + s.address() + ", " + s.state() + ", " + l.replicas() + " replicas, "
                        + l.leaders() + " leaders, " + Units.bytes(l.bytes()) + ")";
            }).collect(Collectors.joining("; "));
            checks.add(CheckResult.pass("Servers to remove", list));

            List<Server> dests = snap.servers().stream()
                    .filter(s -> s.state() == ServerState.LIVE && !removed.contains(s.id())).toList();
            if (dests.isEmpty()) {
                checks.add(CheckResult.block("Servers left", "no live server would remain to take the replicas"));
                return false;
            }
            // Replication factor: every table with a replica to move needs RF live servers outside the removal.
            Set<TableId> affected = new TreeSet<>();
            for (Partition p : snap.partitions()) {
                if (p.replicas().stream().anyMatch(r -> removed.contains(r.server()))) {
                    affected.add(p.table());
                }
            }
            int eligibleWithRemoved = (int) snap.servers().stream()
                    .filter(s -> s.state() == ServerState.LIVE || removed.contains(s.id())).count();
            List<String> short_ = new ArrayList<>();
            int maxRf = 0;
            for (TableId t : affected) {
                Table table = snap.table(t).orElseThrow();
                maxRf = Math.max(maxRf, table.replicationFactor());
                if (dests.size() < table.replicationFactor()) {
                    short_.add(table.name() + " (RF " + table.replicationFactor() + ")");
                }
            }
            if (!short_.isEmpty()) {
                int canGo = Math.max(0, eligibleWithRemoved - maxRf);
                checks.add(CheckResult.block("Replication factor",
                        "only " + dests.size() + " live server(s) would remain, fewer than the replication factor of "
                                + String.join(", ", short_) + "; at most " + canGo + " of the live servers can be removed"));
                return false;
            }
            checks.add(CheckResult.pass("Replication factor", dests.size() + " live servers remain; the largest replication factor among affected tables is " + maxRf));

            List<String> deadOthers = snap.servers().stream()
                    .filter(s -> s.state() == ServerState.DEAD && !removed.contains(s.id()))
                    .map(s -> s.id().value()).toList();
            if (!deadOthers.isEmpty()) {
                checks.add(CheckResult.warn("Dead servers", "not being removed but DEAD: " + String.join(", ", deadOthers)
                        + "; their replicas are unavailable, and no replica is placed on them"));
            }
            for (ServerId id : removed) {
                Server s = snap.server(id).orElseThrow();
                if (s.state() == ServerState.DEAD) {
                    checks.add(CheckResult.warn("Dead servers", id + " is DEAD: its replicas are rebuilt from the other copies"));
                }
            }
            long under = snap.partitions().stream().filter(p -> {
                int rf = snap.table(p.table()).orElseThrow().replicationFactor();
                long upVoters = p.replicas().stream().filter(r -> r.role().isVoter()
                        && snap.server(r.server()).orElseThrow().state().isUp()).count();
                return upVoters < rf;
            }).count();
            if (under > 0) {
                checks.add(CheckResult.warn("Under-replicated partitions", under + " partition(s) have fewer live voters than their replication factor"));
            }
            destinations.addAll(dests);
            destinations.sort(Comparator.comparing(Server::id));
            return true;
        }

        private void initState() {
            for (Server s : snap.servers()) {
                total.put(s.id(), 0);
                leaders.put(s.id(), 0);
                bytes.put(s.id(), 0L);
                perTable.put(s.id(), new HashMap<>());
            }
            for (Partition p : snap.partitions()) {
                placement.put(p.id(), new ArrayList<>(p.replicas()));
                for (Replica r : p.replicas()) {
                    add(r.server(), p, r.role() == ReplicaRole.LEADER ? 1 : 0, 1);
                }
            }
            for (Server s : snap.servers()) {
                used.put(s.id(), s.usedBytes() != null ? s.usedBytes() : bytes.get(s.id()));
            }
        }

        private void add(ServerId s, Partition p, int leaderDelta, int replicaDelta) {
            total.merge(s, replicaDelta, Integer::sum);
            leaders.merge(s, leaderDelta, Integer::sum);
            bytes.merge(s, replicaDelta * p.sizeOrZero(), Long::sum);
            perTable.get(s).merge(p.table(), replicaDelta, Integer::sum);
        }

        // ---- one removed server -------------------------------------------------------------

        private void planServer(int phase, ServerId r) {
            Server server = snap.server(r).orElseThrow();
            phases.add(new Phase(phase, "Remove " + r + " (" + server.address() + ")", List.of(r)));
            if (phase == 0 && caps.healthGates()) {
                steps.add(Step.gate(phase, r, "cluster healthy before anything changes"));
            }
            if (caps.maintenanceMode() && server.state() == ServerState.LIVE) {
                steps.add(Step.server(phase, StepType.ENTER_MAINTENANCE, r, "no new replicas land on " + r + " while it drains"));
            }
            List<Partition> mine = snap.partitions().stream().filter(p -> onServer(p.id(), r))
                    .sorted(Comparator.comparing(Partition::table)
                            .thenComparing(Comparator.comparingLong(Partition::sizeOrZero).reversed())
                            .thenComparing(Partition::id))
                    .toList();
            // Leaders first: cheap, and the engine moves a follower more gently than a leader.
            for (Partition p : mine) {
                if (roleOn(p.id(), r) == ReplicaRole.LEADER) {
                    if (caps.leaderTransfer() && transferLeaderOff(phase, p, r)) {
                        continue;
                    }
                    if (!caps.moveLeaderReplicas()) {
                        throw new Refusal("Leaders", "partition " + p.id() + " is led by " + r
                                + " and has no follower that can take over; this engine cannot move a leader replica");
                    }
                }
            }
            List<PlannedMove> planned = new ArrayList<>();
            Map<TableId, List<Partition>> byTable = new java.util.TreeMap<>();
            for (Partition p : mine) {
                byTable.computeIfAbsent(p.table(), k -> new ArrayList<>()).add(p);
            }
            for (List<Partition> parts : byTable.values()) {
                planned.addAll(placeTable(parts, r));
            }
            evenTotals(planned);
            for (PlannedMove m : planned) {
                steps.add(Step.move(phase, m.partition.id(), m.partition.table(), m.from, m.to, m.partition.sizeOrZero(), m.reason));
            }
            if (caps.healthGates()) {
                steps.add(Step.gate(phase, r, "every replica is off " + r + " and the cluster is healthy"));
            }
            if (caps.stopServerStep() && server.state().isUp()) {
                steps.add(Step.server(phase, StepType.STOP_SERVER, r, r + " holds nothing now; stop it and keep it stopped"));
            }
            if (caps.unregister()) {
                steps.add(Step.server(phase, StepType.UNREGISTER_SERVER, r, "the masters forget " + r + " without a restart"));
                if (caps.healthGates()) {
                    steps.add(Step.gate(phase, r, "cluster healthy without " + r));
                }
            }
        }

        private boolean transferLeaderOff(int phase, Partition p, ServerId r) {
            ServerId best = null;
            for (Replica rep : placement.get(p.id())) {
                ServerId s = rep.server();
                if (rep.role() != ReplicaRole.FOLLOWER || removed.contains(s) || !isUp(s)) {
                    continue;
                }
                if (best == null || compareForLeadership(s, best) < 0) {
                    best = s;
                }
            }
            if (best == null) {
                return false;
            }
            setRole(p.id(), r, ReplicaRole.FOLLOWER);
            setRole(p.id(), best, ReplicaRole.LEADER);
            leaders.merge(r, -1, Integer::sum);
            leaders.merge(best, 1, Integer::sum);
            steps.add(Step.transfer(phase, p.id(), p.table(), r, best,
                    best + ": the follower whose server leads least (" + (leaders.get(best) - 1) + " leaders)"));
            return true;
        }

        private int compareForLeadership(ServerId a, ServerId b) {
            int c = Integer.compare(leaders.get(a), leaders.get(b));
            if (c != 0) {
                return c;
            }
            c = Integer.compare(total.get(a), total.get(b));
            return c != 0 ? c : a.compareTo(b);
        }

        /** A move whose destination the repair pass may still change. */
        private static final class PlannedMove {
            final Partition partition;
            final ServerId from;
            ServerId to;
            String reason;
            final boolean violatesLocation;

            PlannedMove(Partition partition, ServerId from, ServerId to, String reason, boolean violatesLocation) {
                this.partition = partition;
                this.from = from;
                this.to = to;
                this.reason = reason;
                this.violatesLocation = violatesLocation;
            }
        }

        /**
         * Places one table's replicas from {@code from}. Quotas are water-filled (fewest of this table,
         * then fewest in total) so that per-table and total counts stay within one; the replicas are then
         * matched to servers within those quotas by augmenting paths (Kuhn), which finds an assignment
         * whenever the partition and location rules allow one. Where they do not, the quota of the best
         * allowed server grows by one: as close as reachable. Capacity is checked last; what does not fit
         * goes greedily where it does.
         */
        private List<PlannedMove> placeTable(List<Partition> parts, ServerId from) {
            TableId t = parts.get(0).table();
            List<ServerId> dests = destinations.stream().map(Server::id).toList();
            Map<ServerId, Integer> quota = new HashMap<>();
            dests.forEach(d -> quota.put(d, 0));
            for (int k = 0; k < parts.size(); k++) {
                ServerId best = null;
                for (ServerId d : dests) {
                    if (best == null || compareFill(t, d, best, quota) < 0) {
                        best = d;
                    }
                }
                quota.merge(best, 1, Integer::sum);
            }
            Map<PartitionId, List<ServerId>> allowed = new HashMap<>();
            Map<PartitionId, Boolean> violating = new HashMap<>();
            for (Partition p : parts) {
                List<ServerId> ok = new ArrayList<>();
                List<ServerId> anyLocation = new ArrayList<>();
                for (Server d : destinations) {
                    if (onServer(p.id(), d.id()) || !fits(d, p.sizeOrZero())) {
                        continue;
                    }
                    anyLocation.add(d.id());
                    if (!violatesLocation(p, from, d)) {
                        ok.add(d.id());
                    }
                }
                violating.put(p.id(), ok.isEmpty() && !anyLocation.isEmpty());
                allowed.put(p.id(), ok.isEmpty() ? anyLocation : ok);
            }
            Map<ServerId, List<PartitionId>> assigned = new HashMap<>();
            dests.forEach(d -> assigned.put(d, new ArrayList<>()));
            Map<PartitionId, ServerId> match = new HashMap<>();
            for (Partition p : parts) {
                if (allowed.get(p.id()).isEmpty()) {
                    continue; // handled below: greedy placement explains the refusal
                }
                while (!augment(p.id(), allowed, quota, assigned, match, new java.util.HashSet<>())) {
                    ServerId grow = null;
                    for (ServerId d : allowed.get(p.id())) {
                        if (grow == null || compareFill(t, d, grow, quota) < 0) {
                            grow = d;
                        }
                    }
                    quota.merge(grow, 1, Integer::sum);
                }
            }
            List<PlannedMove> out = new ArrayList<>();
            for (Partition p : parts) {
                ServerId to = match.get(p.id());
                Server dest = to == null ? null : snap.server(to).orElseThrow();
                if (dest == null || !fits(dest, p.sizeOrZero())) {
                    out.add(moveReplica(p, from));
                } else {
                    out.add(apply(p, from, dest, violating.get(p.id()), allowed.get(p.id()).size()));
                }
            }
            return out;
        }

        /** Kuhn's augmenting path: gives {@code p} a server, moving earlier assignments where needed. */
        private boolean augment(PartitionId p, Map<PartitionId, List<ServerId>> allowed, Map<ServerId, Integer> quota,
                                Map<ServerId, List<PartitionId>> assigned, Map<PartitionId, ServerId> match,
                                Set<ServerId> visited) {
            for (ServerId d : allowed.get(p)) {
                if (!visited.contains(d) && assigned.get(d).size() < quota.get(d)) {
                    assigned.get(d).add(p);
                    match.put(p, d);
                    return true;
                }
            }
            for (ServerId d : allowed.get(p)) {
                if (!visited.add(d)) {
                    continue;
                }
                for (PartitionId other : new ArrayList<>(assigned.get(d))) {
                    assigned.get(d).remove(other);
                    match.remove(other);
                    if (augment(other, allowed, quota, assigned, match, visited)) {
                        assigned.get(d).add(p);
                        match.put(p, d);
                        return true;
                    }
                    assigned.get(d).add(other);
                    match.put(other, d);
                }
            }
            return false;
        }

        private int compareFill(TableId t, ServerId a, ServerId b, Map<ServerId, Integer> quota) {
            int c = Integer.compare(perTable.get(a).getOrDefault(t, 0) + quota.get(a), perTable.get(b).getOrDefault(t, 0) + quota.get(b));
            if (c != 0) {
                return c;
            }
            c = Integer.compare(total.get(a) + quota.get(a), total.get(b) + quota.get(b));
            if (c != 0) {
                return c;
            }
            c = Long.compare(bytes.get(a), bytes.get(b));
            return c != 0 ? c : a.compareTo(b);
        }

        private boolean fits(Server d, long size) {
            return !d.hasCapacity() || used.get(d.id()) + size <= goal.fillLimit() * d.capacityBytes();
        }

        private boolean violatesLocation(Partition p, ServerId from, Server d) {
            if (d.location() == null) {
                return false;
            }
            int rf = snap.table(p.table()).orElseThrow().replicationFactor();
            int same = 0;
            for (Replica rep : placement.get(p.id())) {
                if (!rep.server().equals(from) && d.location().equals(snap.server(rep.server()).orElseThrow().location())) {
                    same++;
                }
            }
            return same + 1 > rf / 2;
        }

        /** Records the move in the working placement and explains the choice. */
        private PlannedMove apply(Partition p, ServerId from, Server dest, boolean violates, int allowedCount) {
            ServerId to = dest.id();
            Table table = snap.table(p.table()).orElseThrow();
            int tableBefore = perTable.get(to).getOrDefault(p.table(), 0);
            ReplicaRole role = roleOn(p.id(), from);
            List<Replica> out = new ArrayList<>();
            for (Replica rep : placement.get(p.id())) {
                out.add(rep.server().equals(from) ? new Replica(to, role == ReplicaRole.LEADER ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER) : rep);
            }
            placement.put(p.id(), out);
            add(from, p, role == ReplicaRole.LEADER ? -1 : 0, -1);
            add(to, p, role == ReplicaRole.LEADER ? 1 : 0, 1);
            used.merge(to, p.sizeOrZero(), Long::sum);
            String where = dest.location() == null ? "" : violates
                    ? "; no server outside " + dest.location() + " could take it"
                    : "; keeps one location from holding a majority";
            if (violates) {
                locationCompromises.add(p.id().value());
            }
            return new PlannedMove(p, from, to, to + ": fewest replicas of table " + table.name() + " (" + tableBefore
                    + ") among " + allowedCount + " allowed server(s)" + where, violates);
        }

        private PlannedMove moveReplica(Partition p, ServerId from) {
            Table table = snap.table(p.table()).orElseThrow();
            int rf = table.replicationFactor();
            List<Replica> reps = placement.get(p.id());
            Map<String, Integer> perLocation = new HashMap<>();
            for (Replica rep : reps) {
                if (!rep.server().equals(from)) {
                    String loc = snap.server(rep.server()).orElseThrow().location();
                    if (loc != null) {
                        perLocation.merge(loc, 1, Integer::sum);
                    }
                }
            }
            Server best = null;
            boolean bestViolates = true;
            int allowed = 0;
            List<String> full = new ArrayList<>();
            for (Server d : destinations) {
                if (onServer(p.id(), d.id())) {
                    continue;
                }
                if (d.hasCapacity() && used.get(d.id()) + p.sizeOrZero() > goal.fillLimit() * d.capacityBytes()) {
                    full.add(d.id().value());
                    continue;
                }
                allowed++;
                boolean violates = d.location() != null && perLocation.getOrDefault(d.location(), 0) + 1 > rf / 2;
                if (best == null || compareDestination(p.table(), d, violates, best, bestViolates) < 0) {
                    best = d;
                    bestViolates = violates;
                }
            }
            if (best == null) {
                String why = full.isEmpty()
                        ? "every live server outside the removal already holds a replica of it"
                        : "servers short of room below the " + Math.round(goal.fillLimit() * 100) + "% fill limit: " + String.join(", ", full);
                throw new Refusal(full.isEmpty() ? "Replication factor" : "Destination capacity",
                        "no destination for partition " + p.id() + " of table " + table.name()
                                + " (" + Units.bytesOrUnknown(p.sizeBytes()) + "): " + why);
            }
            return apply(p, from, best, bestViolates, allowed);
        }

        /**
         * Placement table by table can leave totals two or more apart. Reassign planned destinations
         * (never adding a move) from the fullest server to an emptier one, only where no table's spread
         * grows and the partition, location and capacity rules allow. Each reassignment lowers the sum of
         * squared totals, so the loop ends.
         */
        private void evenTotals(List<PlannedMove> planned) {
            if (planned.isEmpty()) {
                return;
            }
            Map<ServerId, List<PlannedMove>> into = new HashMap<>();
            for (PlannedMove m : planned) {
                into.computeIfAbsent(m.to, k -> new ArrayList<>()).add(m);
            }
            tableSpan.clear();
            int guard = planned.size() * 2 + 1;
            while (guard-- > 0) {
                List<ServerId> ids = destinations.stream().map(Server::id)
                        .sorted(Comparator.<ServerId>comparingInt(total::get).reversed().thenComparing(x -> x))
                        .toList();
                boolean changed = false;
                outer:
                for (int i = 0; i < ids.size() && !changed; i++) {
                    ServerId hi = ids.get(i);
                    List<PlannedMove> candidates = into.getOrDefault(hi, List.of());
                    if (candidates.isEmpty()) {
                        continue;
                    }
                    for (int j = ids.size() - 1; j > i; j--) {
                        ServerId lo = ids.get(j);
                        if (total.get(hi) - total.get(lo) < 2) {
                            break; // the rest are closer still
                        }
                        for (PlannedMove m : candidates) {
                            if (canReassign(m, lo)) {
                                reassign(m, lo);
                                candidates.remove(m);
                                into.computeIfAbsent(lo, k -> new ArrayList<>()).add(m);
                                tableSpan.remove(m.partition.table());
                                changed = true;
                                break outer;
                            }
                        }
                    }
                }
                if (!changed) {
                    return;
                }
            }
        }

        /** Per table: {min, max} of its replica counts over the destinations, cached within one repair pass. */
        private final Map<TableId, int[]> tableSpan = new HashMap<>();

        private int[] span(TableId t) {
            return tableSpan.computeIfAbsent(t, k -> {
                int max = Integer.MIN_VALUE;
                int min = Integer.MAX_VALUE;
                for (Server d : destinations) {
                    int n = perTable.get(d.id()).getOrDefault(t, 0);
                    max = Math.max(max, n);
                    min = Math.min(min, n);
                }
                return new int[]{min, max};
            });
        }

        private boolean canReassign(PlannedMove m, ServerId lo) {
            TableId t = m.partition.table();
            // The table's spread among the destinations must not grow: the receiver stays at or below the
            // table's current maximum, the giver at or above its minimum.
            int loCount = perTable.get(lo).getOrDefault(t, 0);
            int hiCount = perTable.get(m.to).getOrDefault(t, 0);
            int[] mm = span(t);
            int tableMin = mm[0];
            int tableMax = mm[1];
            // ...and no server joins the table's minimum or maximum unless the other one leaves it.
            if (loCount + 1 > tableMax || (loCount + 1 == tableMax && hiCount != tableMax)) {
                return false;
            }
            if (hiCount - 1 < tableMin || (hiCount - 1 == tableMin && loCount != tableMin)) {
                return false;
            }

            if (onServer(m.partition.id(), lo)) {
                return false;
            }
            Server dest = snap.server(lo).orElseThrow();
            if (dest.hasCapacity() && used.get(lo) + m.partition.sizeOrZero() > goal.fillLimit() * dest.capacityBytes()) {
                return false;
            }
            if (dest.location() == null) {
                return true;
            }
            int rf = snap.table(t).orElseThrow().replicationFactor();
            int sameLoc = 0;
            for (Replica rep : placement.get(m.partition.id())) {
                if (!rep.server().equals(m.to) && dest.location().equals(snap.server(rep.server()).orElseThrow().location())) {
                    sameLoc++;
                }
            }
            return m.violatesLocation || sameLoc + 1 <= rf / 2;
        }

        private void reassign(PlannedMove m, ServerId lo) {
            ServerId hi = m.to;
            List<Replica> reps = placement.get(m.partition.id());
            for (int k = 0; k < reps.size(); k++) {
                if (reps.get(k).server().equals(hi)) {
                    ReplicaRole role = reps.get(k).role();
                    reps.set(k, new Replica(lo, role));
                    int leaderDelta = role == ReplicaRole.LEADER ? 1 : 0;
                    add(hi, m.partition, -leaderDelta, -1);
                    add(lo, m.partition, leaderDelta, 1);
                }
            }
            used.merge(hi, -m.partition.sizeOrZero(), Long::sum);
            used.merge(lo, m.partition.sizeOrZero(), Long::sum);
            m.to = lo;
            m.reason = lo + ": holds fewer replicas in total than " + hi + " (" + total.get(lo) + " vs " + total.get(hi)
                    + " after this move) and fewer of table " + snap.table(m.partition.table()).orElseThrow().name();
        }

        private int compareDestination(TableId t, Server a, boolean aViolates, Server b, boolean bViolates) {
            if (aViolates != bViolates) {
                return aViolates ? 1 : -1;
            }
            int c = Integer.compare(perTable.get(a.id()).getOrDefault(t, 0), perTable.get(b.id()).getOrDefault(t, 0));
            if (c != 0) {
                return c;
            }
            c = Integer.compare(total.get(a.id()), total.get(b.id()));
            if (c != 0) {
                return c;
            }
            c = Long.compare(bytes.get(a.id()), bytes.get(b.id()));
            return c != 0 ? c : a.id().compareTo(b.id());
        }

        // ---- leader balance -------------------------------------------------------------------

        private void planLeaderBalance(int phase) {
            Set<ServerId> remaining = destinations.stream().map(Server::id).collect(Collectors.toCollection(LinkedHashSet::new));
            Map<ServerId, List<PartitionId>> led = new HashMap<>();
            remaining.forEach(s -> led.put(s, new ArrayList<>()));
            placement.forEach((pid, reps) -> reps.stream().filter(r -> r.role() == ReplicaRole.LEADER && remaining.contains(r.server()))
                    .forEach(r -> led.get(r.server()).add(pid)));
            List<Step> transfers = new ArrayList<>();
            // Cheap passes first: each partition's leadership goes to its least-leading follower when that
            // evens two servers out. The targeted loop below then finishes what the passes leave.
            for (int pass = 0; pass < 4; pass++) {
                boolean any = false;
                for (Map.Entry<PartitionId, List<Replica>> e : placement.entrySet()) {
                    ServerId l = null;
                    ServerId bestF = null;
                    for (Replica rep : e.getValue()) {
                        if (rep.role() == ReplicaRole.LEADER) {
                            l = rep.server();
                        }
                    }
                    if (l == null || !remaining.contains(l)) {
                        continue;
                    }
                    for (Replica rep : e.getValue()) {
                        if (rep.role() == ReplicaRole.FOLLOWER && remaining.contains(rep.server())
                                && (bestF == null || compareForLeadership(rep.server(), bestF) < 0)) {
                            bestF = rep.server();
                        }
                    }
                    if (bestF != null && leaders.get(l) - leaders.get(bestF) >= 2) {
                        transfers.add(evenLeader(phase, e.getKey(), l, bestF, led));
                        any = true;
                    }
                }
                if (!any) {
                    break;
                }
            }
            int guard = placement.size() * 2 + 10;
            while (guard-- > 0) {
                List<ServerId> byLeaders = new ArrayList<>(remaining);
                byLeaders.sort((a, b) -> compareForLeadership(b, a));
                int fewest = remaining.stream().mapToInt(leaders::get).min().orElse(0);
                boolean moved = false;
                for (ServerId src : byLeaders) {
                    if (leaders.get(src) - fewest < 2) {
                        break; // neither this server nor any after it leads two more than the least-leading one
                    }
                    PartitionId bestP = null;
                    ServerId bestDst = null;
                    for (PartitionId pid : led.get(src)) {
                        for (Replica rep : placement.get(pid)) {
                            ServerId f = rep.server();
                            if (rep.role() != ReplicaRole.FOLLOWER || !remaining.contains(f)) {
                                continue;
                            }
                            if (leaders.get(src) - leaders.get(f) < 2) {
                                continue;
                            }
                            if (bestDst == null || compareForLeadership(f, bestDst) < 0) {
                                bestDst = f;
                                bestP = pid;
                            }
                        }
                    }
                    if (bestP != null) {
                        transfers.add(evenLeader(phase, bestP, src, bestDst, led));
                        moved = true;
                        break;
                    }
                }
                if (!moved) {
                    break;
                }
            }
            if (!transfers.isEmpty()) {
                phases.add(new Phase(phase, "Balance leaders", List.copyOf(remaining)));
                steps.addAll(transfers);
                if (caps.healthGates()) {
                    steps.add(Step.gate(phase, null, "cluster healthy after the leader changes"));
                }
            }
        }

        /** Moves leadership of {@code pid} from {@code from} to {@code to} in the working state; the step that does it. */
        private Step evenLeader(int phase, PartitionId pid, ServerId from, ServerId to, Map<ServerId, List<PartitionId>> led) {
            Partition p = snap.partition(pid).orElseThrow();
            setRole(pid, from, ReplicaRole.FOLLOWER);
            setRole(pid, to, ReplicaRole.LEADER);
            leaders.merge(from, -1, Integer::sum);
            leaders.merge(to, 1, Integer::sum);
            led.get(from).remove(pid);
            led.get(to).add(pid);
            return Step.transfer(phase, pid, p.table(), from, to, "evens leaders: " + from + " " + (leaders.get(from) + 1)
                    + " → " + leaders.get(from) + ", " + to + " " + (leaders.get(to) - 1) + " → " + leaders.get(to));
        }

        // ---- result checks -----------------------------------------------------------------

        private void addResultChecks(ClusterSnapshot after) {
            Map<ServerId, ServerLoad> loads = after.loads();
            List<ServerLoad> remaining = destinations.stream().map(s -> loads.get(s.id())).toList();
            for (Server d : destinations) {
                if (d.hasCapacity()) {
                    double fill = (double) used.get(d.id()) / d.capacityBytes();
                    if (fill > 0.75) {
                        checks.add(CheckResult.warn("Destination capacity", d.id() + " ends at " + Math.round(fill * 100)
                                + "% of its capacity (limit " + Math.round(goal.fillLimit() * 100) + "%)"));
                    }
                }
            }
            if (checks.stream().noneMatch(c -> c.name().equals("Destination capacity"))) {
                boolean known = destinations.stream().anyMatch(Server::hasCapacity);
                checks.add(CheckResult.pass("Destination capacity", known
                        ? "every destination stays below " + Math.round(goal.fillLimit() * 100) + "% of its capacity"
                        : "capacity unknown for this cluster; replica bytes are balanced instead"));
            }
            if (snap.hasLocations()) {
                Map<String, Integer> servers = new LinkedHashMap<>();
                Map<String, Integer> reps = new LinkedHashMap<>();
                for (Server d : destinations) {
                    String loc = d.location() == null ? "(none)" : d.location();
                    servers.merge(loc, 1, Integer::sum);
                    reps.merge(loc, loads.get(d.id()).replicas(), Integer::sum);
                }
                String spread = servers.keySet().stream().sorted()
                        .map(l -> String.format(java.util.Locale.ROOT, "%s %.0f/server", l, (double) reps.get(l) / servers.get(l)))
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
            int minR = remaining.stream().mapToInt(ServerLoad::replicas).min().orElse(0);
            int maxR = remaining.stream().mapToInt(ServerLoad::replicas).max().orElse(0);
            int minL = remaining.stream().mapToInt(ServerLoad::leaders).min().orElse(0);
            int maxL = remaining.stream().mapToInt(ServerLoad::leaders).max().orElse(0);
            String balance = "replicas per server " + minR + "–" + maxR + ", leaders per server " + minL + "–" + maxL;
            boolean locationBound = checks.stream().anyMatch(c -> c.name().equals("Location spread") && c.verdict() == Verdict.WARN);
            checks.add(maxR - minR <= 1
                    ? CheckResult.pass("Balance after", balance)
                    : CheckResult.warn("Balance after", balance + (locationBound
                    ? ": the location rule above keeps the spread from being closer"
                    : ": only the removed servers' replicas move, and the rest of the cluster was uneven already")));
        }

        // ---- placement helpers -------------------------------------------------------------

        private boolean onServer(PartitionId p, ServerId s) {
            for (Replica r : placement.get(p)) {
                if (r.server().equals(s)) {
                    return true;
                }
            }
            return false;
        }

        private ReplicaRole roleOn(PartitionId p, ServerId s) {
            for (Replica r : placement.get(p)) {
                if (r.server().equals(s)) {
                    return r.role();
                }
            }
            throw new IllegalStateException(s + " holds no replica of " + p);
        }

        private void setRole(PartitionId p, ServerId s, ReplicaRole role) {
            List<Replica> reps = placement.get(p);
            for (int i = 0; i < reps.size(); i++) {
                if (reps.get(i).server().equals(s)) {
                    reps.set(i, new Replica(s, role));
                }
            }
        }

        private boolean isUp(ServerId s) {
            return snap.server(s).map(x -> x.state().isUp()).orElse(false);
        }
    }

    private static final class Refusal extends RuntimeException {
        private final String check;

        Refusal(String check, String message) {
            super(message, null, false, false);
            this.check = check;
        }
    }
}
