package io.tabletop.planner;

import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Decides which steps of a plan start next, shared by the {@link Estimator} and the executor so that the
 * estimate describes the run:
 * <ul>
 *   <li>never past a barrier that has not finished, and a barrier only alone, with nothing else in flight;</li>
 *   <li>the steps of one partition in plan order, each after the previous one has finished (a leader
 *       transfer before the move of that partition's replica), so one step per partition at a time;</li>
 *   <li>at most {@code maxPerServer} replica moves touching a server (as source or destination, as Kudu's
 *       rebalancer counts); leader transfers take no slot, so moves overlap the hand-over of leaders;</li>
 *   <li>otherwise in plan order.</li>
 * </ul>
 * A step held back by a saturated server waits in that server's queue. When the server frees a slot, only
 * as many waiting steps as it has free slots are looked at again (a step that finds another server full
 * moves to that server's queue), so each event costs about what it changes, not the length of the plan:
 * a million-replica plan schedules in milliseconds. Servers and partitions are numbered once; no hashing
 * on the hot path. Not thread-safe: one owner.
 */
public final class StepScheduler {
    private final List<Step> steps;
    private final int n;
    private int maxPerServer;
    private final boolean[] barrier;
    /** Server numbers each step touches. */
    private final int[][] touched;
    /** For each step, the next step of the same partition, or -1. */
    private final int[] nextOfPartition;
    /** For each step, its partition's number, or -1. */
    private final int[] partitionOf;
    /** Per partition number: its first step not yet finished or skipped, or -1. */
    private final int[] head;
    private final int[] perServer;
    private final Map<Step, Integer> position = new IdentityHashMap<>();
    private final boolean[] started;
    /** Started steps that gave their slots back while parked ({@link #releaseSlots}). */
    private final boolean[] slotless;
    /** Steps of the current segment that may start as far as order goes, by position. */
    private final BitSet ready = new BitSet();
    /** Per server: steps that found it saturated, lowest position first. */
    private final List<PriorityQueue<Integer>> parked = new ArrayList<>();
    /** Servers that may have free slots and waiting steps to look at again. */
    private final BitSet dirty = new BitSet();
    /** Servers touched by every step of the current segment (a drain: the drained server). */
    private int[] common = new int[0];
    private int inFlight;
    private boolean barrierRunning;
    private int firstNotStarted;
    private int segmentEnd = -1;
    private boolean holdBarriers;

    public StepScheduler(List<Step> steps, int maxPerServer) {
        if (maxPerServer < 1) {
            throw new IllegalArgumentException("maxPerServer must be >= 1");
        }
        this.steps = List.copyOf(steps);
        this.n = this.steps.size();
        this.maxPerServer = maxPerServer;
        this.barrier = new boolean[n];
        this.touched = new int[n][];
        this.nextOfPartition = new int[n];
        this.partitionOf = new int[n];
        this.started = new boolean[n];
        this.slotless = new boolean[n];
        Map<ServerId, Integer> serverNo = new HashMap<>();
        Map<PartitionId, Integer> partitionNo = new HashMap<>();
        List<Integer> lastOfPartition = new ArrayList<>();
        List<Integer> firstOfPartition = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Step s = this.steps.get(i);
            position.put(s, i);
            barrier[i] = s.type().isBarrier();
            List<ServerId> ts = takesSlots(s) ? s.touchedServers() : List.of();
            int[] t = new int[ts.size()];
            for (int k = 0; k < t.length; k++) {
                t[k] = serverNo.computeIfAbsent(ts.get(k), x -> serverNo.size());
            }
            touched[i] = t;
            nextOfPartition[i] = -1;
            partitionOf[i] = -1;
            if (s.partition() != null && !barrier[i]) {
                Integer no = partitionNo.get(s.partition());
                if (no == null) {
                    no = partitionNo.size();
                    partitionNo.put(s.partition(), no);
                    firstOfPartition.add(i);
                    lastOfPartition.add(i);
                } else {
                    nextOfPartition[lastOfPartition.get(no)] = i;
                    lastOfPartition.set(no, i);
                }
                partitionOf[i] = no;
            }
        }
        this.head = new int[partitionNo.size()];
        for (int p = 0; p < head.length; p++) {
            head[p] = firstOfPartition.get(p);
        }
        this.perServer = new int[serverNo.size()];
        for (int k = 0; k < serverNo.size(); k++) {
            parked.add(new PriorityQueue<>());
        }
    }

    /**
     * Whether a step takes one of its servers' slots: a replica move does (it copies data, as Kudu's
     * {@code --max_moves_per_server} counts); a leader transfer is metadata and takes none, so the moves of
     * replicas that are followers on a drained server start while its leaders are handed over. A barrier
     * runs alone anyway.
     */
    public static boolean takesSlots(Step s) {
        return !s.type().isBarrier() && s.type() != StepType.TRANSFER_LEADER;
    }

    /**
     * Changes the bound on moves per server while the plan runs (adaptive concurrency). A higher bound lets
     * waiting steps start at the next {@link #next()}; a lower one lets the moves in flight finish and starts
     * nothing on a server until it is under the new bound.
     */
    public void setMaxPerServer(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("maxPerServer must be >= 1");
        }
        if (max > maxPerServer) {
            for (int t = 0; t < parked.size(); t++) {
                if (!parked.get(t).isEmpty()) {
                    dirty.set(t);
                }
            }
        }
        maxPerServer = max;
    }

    public int maxPerServer() {
        return maxPerServer;
    }

    /** Marks a step as started without running it (done already, or cancelled). */
    public void skip(int index) {
        if (started[index]) {
            return;
        }
        started[index] = true;
        ready.clear(index);
        release(index);
        advance();
    }

    /** Steps that may start now, marked as started. Empty when everything waits. */
    public List<Step> next() {
        List<Step> out = new ArrayList<>();
        if (firstNotStarted >= n || barrierRunning) {
            return out;
        }
        if (barrier[firstNotStarted]) {
            if (!holdBarriers && inFlight == 0) {
                start(firstNotStarted, out);
            }
            return out;
        }
        enterSegment();
        while (!commonSaturated()) {
            for (int t = dirty.nextSetBit(0); t >= 0; t = dirty.nextSetBit(t + 1)) {
                wake(t);
            }
            dirty.clear();
            if (ready.isEmpty()) {
                break;
            }
            for (int i = ready.nextSetBit(0); i >= 0; i = ready.nextSetBit(i + 1)) {
                ready.clear(i);
                int full = saturatedServerOf(i);
                if (full < 0) {
                    start(i, out);
                    if (commonSaturated()) {
                        break;
                    }
                } else {
                    park(full, i);
                }
            }
        }
        return out;
    }

    /** Looks again at as many of the steps waiting for {@code server} as it has free slots. */
    private void wake(int server) {
        PriorityQueue<Integer> q = parked.get(server);
        int free = maxPerServer - perServer[server];
        while (free > 0 && !q.isEmpty()) {
            int i = q.poll();
            if (started[i]) {
                continue;
            }
            int full = saturatedServerOf(i);
            if (full >= 0) {
                parked.get(full).add(i);
            } else {
                ready.set(i);
                free--;
            }
        }
    }

    /** A step waits for a full server; if another server of it has room, that server's queue may hold work for it. */
    private void park(int server, int i) {
        parked.get(server).add(i);
        for (int t : touched[i]) {
            if (t != server && perServer[t] < maxPerServer && !parked.get(t).isEmpty()) {
                dirty.set(t);
            }
        }
    }

    private int saturatedServerOf(int i) {
        for (int t : touched[i]) {
            if (perServer[t] >= maxPerServer) {
                return t;
            }
        }
        return -1;
    }

    /** When the first step not started opens a new segment, its order-eligible steps become ready. */
    private void enterSegment() {
        if (firstNotStarted <= segmentEnd) {
            return;
        }
        int end = firstNotStarted;
        while (end < n && !barrier[end]) {
            end++;
        }
        segmentEnd = end - 1;
        ready.clear();
        dirty.clear();
        parked.forEach(PriorityQueue::clear);
        int[] c = null;
        for (int i = firstNotStarted; i <= segmentEnd && (c == null || c.length > 0); i++) {
            c = c == null ? touched[i].clone() : retain(c, touched[i]);
        }
        common = c == null ? new int[0] : c;
        for (int i = firstNotStarted; i <= segmentEnd; i++) {
            if (!started[i] && orderAllows(i)) {
                ready.set(i);
            }
        }
    }

    private static int[] retain(int[] a, int[] b) {
        int k = 0;
        int[] out = new int[a.length];
        for (int x : a) {
            for (int y : b) {
                if (x == y) {
                    out[k++] = x;
                    break;
                }
            }
        }
        return Arrays.copyOf(out, k);
    }

    private boolean commonSaturated() {
        for (int s : common) {
            if (perServer[s] >= maxPerServer) {
                return true;
            }
        }
        return false;
    }

    private boolean orderAllows(int i) {
        return partitionOf[i] < 0 || head[partitionOf[i]] == i;
    }

    private void start(int i, List<Step> out) {
        inFlight++;
        if (barrier[i]) {
            barrierRunning = true;
        }
        for (int t : touched[i]) {
            perServer[t]++;
        }
        started[i] = true;
        out.add(steps.get(i));
        advance();
    }

    private void advance() {
        while (firstNotStarted < n && started[firstNotStarted]) {
            firstNotStarted++;
        }
    }

    public void finished(Step s) {
        int i = startedPosition(s);
        inFlight--;
        if (barrier[i]) {
            barrierRunning = false;
        }
        if (!slotless[i]) {
            freeSlots(i);
        }
        slotless[i] = false;
        release(i);
    }

    private int startedPosition(Step s) {
        Integer i = position.get(s);
        if (i == null || !started[i]) {
            throw new IllegalStateException("step " + s.index() + " was never started");
        }
        return i;
    }

    private void freeSlots(int i) {
        for (int t : touched[i]) {
            perServer[t]--;
            if (!parked.get(t).isEmpty()) {
                dirty.set(t);
            }
        }
    }

    /**
     * A started step is parked (it waits for the engine, not for a slot): its servers' slots go to other
     * steps, while it still counts as in flight, so no barrier after it starts and its partition's next step
     * waits. {@link #retakeSlots} before it runs again; {@link #finished} when it ends either way.
     */
    public void releaseSlots(Step s) {
        int i = startedPosition(s);
        if (!slotless[i]) {
            slotless[i] = true;
            freeSlots(i);
        }
    }

    /** Takes a parked step's slots back; false (nothing taken) while one of its servers is full. */
    public boolean retakeSlots(Step s) {
        int i = startedPosition(s);
        if (!slotless[i]) {
            return true;
        }
        if (saturatedServerOf(i) >= 0) {
            return false;
        }
        for (int t : touched[i]) {
            perServer[t]++;
        }
        slotless[i] = false;
        return true;
    }

    /** The next step of the same partition may go once this one is done. */
    private void release(int i) {
        int p = partitionOf[i];
        if (p < 0 || head[p] != i) {
            return;
        }
        int next = nextOfPartition[i];
        head[p] = next;
        if (next >= 0 && !started[next] && next <= segmentEnd && next >= firstNotStarted) {
            ready.set(next);
        }
    }

    /** After a failure: steps already free to run may finish, but no barrier starts. */
    public void holdBarriers() {
        holdBarriers = true;
    }

    public boolean allStarted() {
        return firstNotStarted == n;
    }

    public int inFlight() {
        return inFlight;
    }

    /** The first step not started yet (the plan's length when all have). */
    public int firstNotStarted() {
        return firstNotStarted;
    }

    /** Whether a barrier step (a gate, maintenance, stop, unregister) is running now. */
    public boolean barrierInFlight() {
        return barrierRunning;
    }

    /** Indexes of steps not started yet. */
    public List<Integer> notStarted() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (!started[i]) {
                out.add(i);
            }
        }
        return out;
    }
}
