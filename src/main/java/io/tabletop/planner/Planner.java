package io.tabletop.planner;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a snapshot and a goal into a plan. A pure, deterministic function: no I/O, no clock, no
 * randomness; the same input gives the same plan in the same order. Thread-safe (stateless).
 *
 * <h2>Goals and who plans them</h2>
 * <ul>
 *   <li>{@link RemoveServers}, Tabletop's strategy: {@link Removal}, below.</li>
 *   <li>{@link RemoveServers} with {@link RemoveServers.Strategy#ENGINE}: Tabletop's removal with each
 *       server's moves replaced by one engine drain step (Kudu's rebalancer with ignored tservers).</li>
 *   <li>Any goal on an engine that moves data only in its own rebalance (Couchbase): {@link EngineRebalance},
 *       one step plus a forecast of the vBucket map by the server's own rules.</li>
 *   <li>{@link Rebalance} and {@link ScaleOut}: {@link Balancing}; {@link Restore}: {@link Restoration}.</li>
 * </ul>
 * Engine rules (maintenance mode, leader transfers, whether a leader replica can move, gates, stop and
 * unregister, concurrency) come from {@link EngineCapabilities}, never from the engine's name.
 *
 * <h2>Removal</h2>
 * Exactly the replicas on the removed servers move, no others. Servers go one per phase when the engine
 * asks for it (Kudu's admin docs: one tserver at a time). Within a phase:
 * <ol>
 *   <li>a health gate (first phase only), then the server enters maintenance mode, so that nothing new
 *       lands on it;</li>
 *   <li>each partition it leads hands leadership to the follower whose server leads least;</li>
 *   <li>its replicas are placed table by table. For one table, <em>quotas</em> are water-filled over the
 *       destinations (fewest replicas of this table, then fewest in total), so per-table and total counts
 *       stay within one of even; then the replicas are <em>matched</em> to servers within the quotas by
 *       augmenting paths (Kuhn's algorithm), which finds an assignment whenever the rules allow one: not
 *       onto a server that holds the partition, not giving one location a majority of the partition where
 *       that can be avoided, under the fill limit. Where no assignment exists, the quota of the best allowed
 *       server grows by one: as close to even as is reachable. Replicas go largest first, so bytes even out
 *       too; a last pass swaps destinations between tables to even the totals;</li>
 *   <li>a health gate, then stop and unregister the server, and a health gate again.</li>
 * </ol>
 * A last phase evens leaders out with transfers only ({@link LeaderBalance}: shed above the ceiling,
 * fill below the floor, then augmenting chains of transfers; when no chain exists, no sequence of
 * transfers lowers the skew). Without it, transfers only restore the leader skew found before.
 *
 * <h2>A worked example</h2>
 * Five servers A..E, one table of 10 partitions at RF 3 (30 replicas, 6 per server); E leads 2 of them
 * (p1 with followers A, B; p2 with followers C, D) and follows in 4 more (p3..p6). Remove E:
 * <pre>
 *   phase 0  gate · E enters maintenance
 *            leader of p1 E → A, leader of p2 E → C       (A and C lead least among each one's followers)
 *            quotas for E's 6 replicas over A..D: 6 / 4 → 2, 2, 1, 1 (fewest in total first, ties by id)
 *            matching: p1 and p2 cannot go to their own followers; Kuhn's paths give
 *              p1 → C, p2 → A, p3 → B, p4 → D, p5 → A, p6 → B  (each server within its quota)
 *            gate · stop E · unregister E · gate
 *   phase 1  leader transfers that even leaders out across A..D (if asked), then a gate
 * </pre>
 * After: A, B hold 8 replicas, C, D hold 7: per table and in total within one; 6 moves, no more; no
 * partition has two replicas on one server. Every plan is checked by {@link Invariants} before it is
 * returned, and its prediction is the plan applied to the snapshot ({@link PlanApplier}).
 */
public final class Planner {

    /**
     * The largest number of bytes all copies of all partitions may add up to: every byte total a plan makes
     * (per server, to move, per phase) is a part of it, twice over at most, so none overflows a long.
     */
    static final long MAX_TOTAL_BYTES = Long.MAX_VALUE / 4;

    /** Plans the goal, or refuses with the checks that block it. */
    public Plan plan(ClusterSnapshot snapshot, Goal goal, EngineCapabilities caps) throws PlanRefusedException {
        refuseUnplannable(snapshot);
        try {
            return planChecked(snapshot, goal, caps);
        } catch (ArithmeticException e) {
            throw new PlanRefusedException(List.of(CheckResult.block("Sizes", "a byte total of the plan overflows ("
                    + e.getMessage() + "): the sizes the cluster reports cannot be right")));
        }
    }

    /**
     * What no plan can be made for: a partition with no replica left (lost: nothing to copy from), and sizes
     * whose total over all copies is beyond {@link #MAX_TOTAL_BYTES} (a reading gone wrong).
     */
    public static void refuseUnplannable(ClusterSnapshot snapshot) throws PlanRefusedException {
        List<CheckResult> blocks = new ArrayList<>();
        List<String> lost = snapshot.partitions().stream().filter(p -> p.replicas().isEmpty()).map(p -> p.id().value()).toList();
        if (!lost.isEmpty()) {
            blocks.add(CheckResult.block("Lost partition", String.join(", ", lost.subList(0, Math.min(5, lost.size())))
                    + (lost.size() > 5 ? " and " + (lost.size() - 5) + " more" : "") + (lost.size() == 1 ? " has" : " have")
                    + " no replica: its data is gone from the cluster; restore it (or drop it) before moving anything"));
        }
        long total = 0;
        try {
            for (Partition p : snapshot.partitions()) {
                total = Math.addExact(total, Math.multiplyExact(p.sizeOrZero(), (long) p.replicas().size()));
            }
        } catch (ArithmeticException e) {
            total = Long.MAX_VALUE;
        }
        if (total > MAX_TOTAL_BYTES) {
            blocks.add(CheckResult.block("Sizes", "the partitions' copies add up to more than 2^61 bytes ("
                    + (total == Long.MAX_VALUE ? "beyond a long" : total + " B") + "): the sizes the cluster reports cannot be right"));
        }
        if (!blocks.isEmpty()) {
            throw new PlanRefusedException(blocks);
        }
    }

    /**
     * A BLOCK naming the partitions that have copies but no leader (every copy a follower, learner or stale
     * one): the engine has not elected a leader, so no plan can keep one per partition. Only for a plan made
     * before a run (the offline plan and the pre-check): a re-plan during a run is not stopped by an election
     * in progress.
     */
    public static java.util.Optional<CheckResult> leaderless(ClusterSnapshot snapshot) {
        List<String> ids = snapshot.partitions().stream()
                .filter(p -> !p.replicas().isEmpty() && p.replicas().stream().noneMatch(r -> r.role() == io.tabletop.domain.ReplicaRole.LEADER))
                .map(p -> p.id().value()).toList();
        if (ids.isEmpty()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(CheckResult.block("Leaderless partition", String.join(", ", ids.subList(0, Math.min(5, ids.size())))
                + (ids.size() > 5 ? " and " + (ids.size() - 5) + " more" : "") + (ids.size() == 1 ? " has" : " have")
                + " no leader (its copies are all followers or learners): the engine has not elected one, so nothing can be"
                + " moved safely; wait for the election (or repair the partition) and plan again"));
    }

    private Plan planChecked(ClusterSnapshot snapshot, Goal goal, EngineCapabilities caps) throws PlanRefusedException {
        if (goal instanceof RemoveServers r && r.strategy() == RemoveServers.Strategy.ENGINE) {
            return engineDrain(snapshot, r, caps);
        }
        if (goal instanceof RemoveServers r && r.strategy() == RemoveServers.Strategy.FAILOVER_FIRST && !caps.failoverFirst()) {
            throw new PlanRefusedException(List.of(CheckResult.block("Strategy", "this engine has no graceful failover; use its rebalance or Tabletop's plan")));
        }
        if (goal instanceof Restore r) {
            if (caps.engineRebalance()) {
                throw new PlanRefusedException(List.of(CheckResult.block("Goal",
                        "this engine places data only in its own rebalance: add the nodes back and rebalance")));
            }
            return new Restoration(snapshot, r, caps).run();
        }
        if (goal instanceof RemoveServers r && caps.engineRebalance()) {
            return EngineRebalance.plan(snapshot, r, caps);
        }
        if (goal instanceof RemoveServers r) {
            return new Removal(snapshot, r, caps).run();
        }
        if (caps.engineRebalance()) {
            throw new PlanRefusedException(List.of(CheckResult.block("Goal",
                    "this engine moves data only in its own rebalance; plan a removal, or run the engine's rebalance")));
        }
        return new Balancing(snapshot, goal, caps).run();
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
                            long bytes = base.stepsOfPhase(ph.index()).stream().mapToLong(Step::bytes).reduce(0, Math::addExact);
                            long moves = base.stepsOfPhase(ph.index()).stream().filter(x -> x.type() == StepType.MOVE_REPLICA).count();
                            ServerId r = ph.servers().get(0);
                            steps.add(Step.engineRebalance(ph.index(), List.of(r), bytes,
                                    "the engine's rebalancer empties " + r + " (" + moves + " replicas) and then evens out the rest"));
                        }
                    }
                    default -> steps.add(s);
                }
            }
        }
        // A phase left with nothing but health gates (the leader phase, whose transfers the engine does not
        // make) goes, whatever its title; the phases kept are numbered again from 0.
        Map<Integer, Integer> renumber = new LinkedHashMap<>();
        for (Phase ph : base.phases()) {
            if (steps.stream().anyMatch(x -> x.phase() == ph.index() && x.type() != StepType.HEALTH_GATE)) {
                renumber.put(ph.index(), renumber.size());
            }
        }
        List<Phase> phases = base.phases().stream().filter(p -> renumber.containsKey(p.index()))
                .map(p -> new Phase(renumber.get(p.index()), p.title(), p.servers())).toList();
        List<Step> kept = steps.stream().filter(x -> renumber.containsKey(x.phase()))
                .map(x -> x.withPhase(renumber.get(x.phase()))).toList();
        List<Step> indexed = indexed(kept);
        Plan.Summary b = base.summary();
        // The engine keeps about 3 replacements per emptied server in flight at max_moves_per_server=5 (research/kudu.md 2.8).
        double secs = Estimator.seconds(base.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).toList(), caps, 3);
        Plan.Summary summary = new Plan.Summary(b.replicaMoves(), 0, b.bytesToMove(), secs, b.maxMovesPerServer());
        // The prediction holds the moves and the server steps, not the leader transfers the engine does not make.
        ClusterSnapshot after = PlanApplier.apply(snapshot, base.steps().stream().filter(x -> x.type() != StepType.TRANSFER_LEADER).toList());
        return new Plan(snapshot, goal, caps, phases, indexed, checks, after, summary, List.of());
    }

    /** The checks alone, whether or not the plan is possible. */
    public List<CheckResult> preChecks(ClusterSnapshot snapshot, Goal goal, EngineCapabilities caps) {
        try {
            return plan(snapshot, goal, caps).checks();
        } catch (PlanRefusedException e) {
            return e.checks();
        }
    }

    /** Steps numbered in order. */
    static List<Step> indexed(List<Step> steps) {
        List<Step> out = new ArrayList<>(steps.size());
        for (int i = 0; i < steps.size(); i++) {
            out.add(steps.get(i).withIndex(i));
        }
        return out;
    }

    /** The plan with its totals and the estimate from simulating the executor's own scheduling. */
    static Plan assemble(ClusterSnapshot snap, Goal goal, EngineCapabilities caps, List<Phase> phases, List<Step> indexed,
                         List<CheckResult> checks, ClusterSnapshot after) {
        int moves = 0;
        int transfers = 0;
        long data = 0;
        for (Step s : indexed) {
            moves += s.type() == StepType.MOVE_REPLICA ? 1 : 0;
            transfers += s.type() == StepType.TRANSFER_LEADER ? 1 : 0;
            data = Math.addExact(data, s.bytes());
        }
        double secs = Estimator.seconds(indexed, caps, caps.maxMovesPerServer());
        Plan.Summary summary = new Plan.Summary(moves, transfers, data, secs, caps.maxMovesPerServer());
        return new Plan(snap, goal, caps, phases, indexed, checks, after, summary, List.of());
    }
}
