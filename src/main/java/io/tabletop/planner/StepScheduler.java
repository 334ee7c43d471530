package io.tabletop.planner;

import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Decides which steps of a plan start next, shared by the {@link Estimator} and the executor so that the
 * estimate describes the run:
 * <ul>
 *   <li>never past a barrier that has not finished, and a barrier only alone;</li>
 *   <li>the steps of one partition in plan order, each after the previous one has finished (a leader
 *       transfer before the move of that partition's replica);</li>
 *   <li>within {@link ConcurrencyRules} (steps per server);</li>
 *   <li>otherwise in plan order.</li>
 * </ul>
 * Steps held back by a saturated server wait under that server and are looked at again only when it frees
 * a slot, so each event costs about what it changes, not the length of the plan. Not thread-safe: one
 * owner.
 */
public final class StepScheduler {
    private final List<Step> steps;
    private final ConcurrencyRules rules;
    private final boolean[] started;
    private final Map<PartitionId, ArrayDeque<Integer>> byPartition = new HashMap<>();
    /** Position of each step in the list given (a step's own index may differ: the estimator schedules sublists). */
    private final Map<Step, Integer> position = new java.util.IdentityHashMap<>();
    /** Steps of the current segment that may start as far as order goes. */
    private final TreeSet<Integer> ready = new TreeSet<>();
    /** Steps that found this server saturated; looked at again when it frees a slot. */
    private final Map<ServerId, List<Integer>> parked = new HashMap<>();
    private int firstNotStarted;
    private int segmentEnd = -1;
    private boolean holdBarriers;

    public StepScheduler(List<Step> steps, int maxPerServer) {
        this.steps = List.copyOf(steps);
        this.rules = new ConcurrencyRules(maxPerServer);
        this.started = new boolean[steps.size()];
        for (int i = 0; i < this.steps.size(); i++) {
            Step s = this.steps.get(i);
            position.put(s, i);
            if (s.partition() != null && !s.type().isBarrier()) {
                byPartition.computeIfAbsent(s.partition(), k -> new ArrayDeque<>()).add(i);
            }
        }
    }

    /** Marks a step as started without running it (done already, or cancelled). */
    public void skip(int index) {
        if (started[index]) {
            return;
        }
        started[index] = true;
        ready.remove(index);
        release(index);
        advance();
    }

    /** Steps that may start now, marked as started. Empty when everything waits. */
    public List<Step> next() {
        List<Step> out = new ArrayList<>();
        if (firstNotStarted >= steps.size() || rules.barrierRunning()) {
            return out;
        }
        Step first = steps.get(firstNotStarted);
        if (first.type().isBarrier()) {
            if (!holdBarriers && rules.canStart(first)) {
                start(firstNotStarted, first, out);
            }
            return out;
        }
        enterSegment();
        if (commonSaturated()) {
            return out; // every step left in this segment needs a server that is full
        }
        java.util.Iterator<Integer> it = ready.iterator();
        while (it.hasNext()) {
            int i = it.next();
            Step s = steps.get(i);
            it.remove();
            if (rules.canStart(s)) {
                start(i, s, out);
                if (commonSaturated()) {
                    break;
                }
            } else {
                ServerId full = s.touchedServers().stream().filter(rules::saturated).findFirst().orElse(null);
                if (full == null) {
                    throw new IllegalStateException("step " + i + " blocked by neither order nor a saturated server");
                }
                parked.computeIfAbsent(full, k -> new ArrayList<>()).add(i);
            }
        }
        return out;
    }

    /** When the first step not started opens a new segment, its order-eligible steps become ready. */
    private void enterSegment() {
        if (firstNotStarted <= segmentEnd) {
            return;
        }
        int end = firstNotStarted;
        while (end < steps.size() && !steps.get(end).type().isBarrier()) {
            end++;
        }
        segmentEnd = end - 1;
        ready.clear();
        parked.clear();
        common = null;
        for (int i = firstNotStarted; i <= segmentEnd && (common == null || !common.isEmpty()); i++) {
            if (common == null) {
                common = new java.util.HashSet<>(steps.get(i).touchedServers());
            } else {
                common.retainAll(steps.get(i).touchedServers());
            }
        }
        if (common == null) {
            common = java.util.Set.of();
        }
        for (int i = firstNotStarted; i <= segmentEnd; i++) {
            if (!started[i] && orderAllows(i)) {
                ready.add(i);
            }
        }
    }

    /** Servers touched by every step of the current segment (a drain: the drained server). */
    private java.util.Set<ServerId> common = java.util.Set.of();

    private boolean commonSaturated() {
        for (ServerId s : common) {
            if (rules.saturated(s)) {
                return true;
            }
        }
        return false;
    }

    private boolean orderAllows(int i) {
        Step s = steps.get(i);
        if (s.partition() == null) {
            return true;
        }
        ArrayDeque<Integer> q = byPartition.get(s.partition());
        return q == null || q.isEmpty() || q.peekFirst() == i;
    }

    private void start(int i, Step s, List<Step> out) {
        rules.started(s);
        started[i] = true;
        out.add(s);
        advance();
    }

    private void advance() {
        while (firstNotStarted < steps.size() && started[firstNotStarted]) {
            firstNotStarted++;
        }
    }

    public void finished(Step s) {
        rules.finished(s);
        release(position.get(s));
        for (ServerId server : s.touchedServers()) {
            List<Integer> waiting = parked.remove(server);
            if (waiting != null) {
                ready.addAll(waiting);
            }
        }
    }

    /** The next step of the same partition may go once this one is done. */
    private void release(int i) {
        Step s = steps.get(i);
        if (s.partition() == null) {
            return;
        }
        ArrayDeque<Integer> q = byPartition.get(s.partition());
        if (q != null && !q.isEmpty() && q.peekFirst() == i) {
            q.pollFirst();
            Integer nextOfPartition = q.peekFirst();
            if (nextOfPartition != null && !started[nextOfPartition] && nextOfPartition <= segmentEnd
                    && nextOfPartition >= firstNotStarted) {
                ready.add(nextOfPartition);
            }
        }
    }

    /** After a failure: steps already free to run may finish, but no barrier starts. */
    public void holdBarriers() {
        holdBarriers = true;
    }

    public boolean allStarted() {
        return firstNotStarted == steps.size();
    }

    public int inFlight() {
        return rules.inFlight();
    }

    /** Indexes of steps not started yet. */
    public List<Integer> notStarted() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            if (!started[i]) {
                out.add(i);
            }
        }
        return out;
    }
}
