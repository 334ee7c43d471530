package io.tabletop.planner;

import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.TableId;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The scheduler on random plans, finishing steps in random order: it never breaks a rule (servers'
 * slots, a partition's order, barriers alone), it never leaves a slot idle that a waiting step could
 * use, and every step starts exactly once.
 */
class StepSchedulerTest {

    @Test
    void randomPlansKeepEveryRuleAndNeverIdleAUsableSlot() {
        for (long seed = 0; seed < 300; seed++) {
            Random r = new Random(seed);
            int servers = 2 + r.nextInt(12);
            int partitions = 1 + r.nextInt(30);
            int max = 1 + r.nextInt(4);
            List<Step> steps = randomSteps(r, servers, partitions, 5 + r.nextInt(150));
            runAndCheck(steps, max, r, seed);
        }
    }

    private static List<Step> randomSteps(Random r, int servers, int partitions, int count) {
        TableId t = TableId.of("t");
        List<Step> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int kind = r.nextInt(20);
            ServerId a = ServerId.of("s" + r.nextInt(servers));
            ServerId b = ServerId.of("s" + r.nextInt(servers));
            while (b.equals(a)) {
                b = ServerId.of("s" + r.nextInt(servers));
            }
            PartitionId p = PartitionId.of("p" + r.nextInt(partitions));
            Step s;
            if (kind == 0) {
                s = Step.gate(0, null, "gate");
            } else if (kind == 1) {
                s = Step.server(0, StepType.ENTER_MAINTENANCE, a, "maintenance");
            } else if (kind < 8) {
                s = Step.transfer(0, p, t, a, b, "transfer");
            } else {
                s = Step.move(0, p, t, a, b, 1, "move");
            }
            out.add(s.withIndex(i));
        }
        return out;
    }

    private static void runAndCheck(List<Step> steps, int max, Random r, long seed) {
        StepScheduler sched = new StepScheduler(steps, max);
        Map<ServerId, Integer> perServer = new HashMap<>();
        Set<Integer> startedSet = new HashSet<>();
        Set<Integer> finishedSet = new HashSet<>();
        List<Step> running = new ArrayList<>();
        int guard = steps.size() * 4 + 10;
        while (guard-- > 0) {
            List<Step> next = sched.next();
            for (Step s : next) {
                int i = s.index();
                assertTrue(startedSet.add(i), "seed " + seed + ": step " + i + " started twice");
                if (s.type().isBarrier()) {
                    assertTrue(running.isEmpty() && next.size() == 1, "seed " + seed + ": barrier " + i + " not alone");
                }
                for (Step before : steps.subList(0, i)) {
                    if (before.type().isBarrier()) {
                        assertTrue(finishedSet.contains(before.index()), "seed " + seed + ": step " + i + " passed barrier " + before.index());
                    }
                    if (s.partition() != null && s.partition().equals(before.partition()) && !before.type().isBarrier()) {
                        assertTrue(finishedSet.contains(before.index()), "seed " + seed + ": step " + i + " started before step "
                                + before.index() + " of the same partition finished");
                    }
                }
                for (ServerId id : touched(s)) {
                    int now = perServer.merge(id, 1, Integer::sum);
                    assertTrue(now <= max, "seed " + seed + ": " + id + " has " + now + " steps, max " + max);
                }
                running.add(s);
            }
            assertNoUsableIdleSlot(steps, startedSet, finishedSet, perServer, running, max, seed);
            if (running.isEmpty()) {
                assertTrue(sched.allStarted(), "seed " + seed + ": stalled with " + sched.notStarted() + " not started");
                assertEquals(steps.size(), finishedSet.size());
                return;
            }
            Step done = running.remove(r.nextInt(running.size()));
            for (ServerId id : touched(done)) {
                perServer.merge(id, -1, Integer::sum);
            }
            finishedSet.add(done.index());
            sched.finished(done);
        }
        fail("seed " + seed + ": did not finish");
    }

    /** Work conservation: a step every rule lets start must have been started. */
    private static void assertNoUsableIdleSlot(List<Step> steps, Set<Integer> started, Set<Integer> finished,
                                               Map<ServerId, Integer> perServer, List<Step> running, int max, long seed) {
        if (running.stream().anyMatch(s -> s.type().isBarrier())) {
            return;
        }
        for (Step s : steps) {
            if (started.contains(s.index())) {
                continue;
            }
            if (s.type().isBarrier()) {
                assertFalse(running.isEmpty() && steps.subList(0, s.index()).stream().allMatch(b -> finished.contains(b.index())),
                        "seed " + seed + ": barrier " + s.index() + " could start");
                return; // nothing past the first waiting barrier may start
            }
            boolean orderOk = steps.subList(0, s.index()).stream()
                    .filter(b -> !b.type().isBarrier() && s.partition() != null && s.partition().equals(b.partition()))
                    .allMatch(b -> finished.contains(b.index()));
            boolean roomOk = touched(s).stream().allMatch(id -> perServer.getOrDefault(id, 0) < max);
            assertFalse(orderOk && roomOk, "seed " + seed + ": step " + s.index() + " could start but waits");
        }
    }

    /** The servers whose slots a step takes: a replica move's; a transfer or a barrier takes none. */
    private static List<ServerId> touched(Step s) {
        return s.type().isBarrier() || s.type() == StepType.TRANSFER_LEADER ? List.of() : s.touchedServers();
    }

    /**
     * A drain's shape: ten leader transfers off the drained server, then the moves of all its replicas. The
     * moves of partitions it only follows start in the first batch, beside the transfers; a partition's move
     * never starts before its own transfer has finished.
     */
    @Test
    void followerMovesStartWhileTheLeadersAreHandedOver() {
        TableId t = TableId.of("t");
        ServerId drained = ServerId.of("d");
        List<Step> steps = new ArrayList<>();
        for (int p = 0; p < 10; p++) {
            steps.add(Step.transfer(0, PartitionId.of("p" + p), t, drained, ServerId.of("s" + (p % 4)), "transfer"));
        }
        for (int p = 0; p < 30; p++) {
            steps.add(Step.move(0, PartitionId.of("p" + p), t, drained, ServerId.of("s" + (p % 4)), 1, "move"));
        }
        for (int i = 0; i < steps.size(); i++) {
            steps.set(i, steps.get(i).withIndex(i));
        }
        StepScheduler sched = new StepScheduler(steps, 5);
        List<Step> first = sched.next();
        assertTrue(first.stream().filter(s -> s.type() == StepType.TRANSFER_LEADER).count() == 10, "every transfer at once: " + first);
        List<Step> moves = first.stream().filter(s -> s.type() == StepType.MOVE_REPLICA).toList();
        assertTrue(moves.size() == 5, "five moves off the drained server start beside the transfers: " + moves);
        assertTrue(moves.stream().allMatch(m -> Integer.parseInt(m.partition().value().substring(1)) >= 10),
                "only moves of partitions whose leader is not being handed over: " + moves);
    }
}
