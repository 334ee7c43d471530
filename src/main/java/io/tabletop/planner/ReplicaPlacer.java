package io.tabletop.planner;

import io.tabletop.domain.TableId;
import io.tabletop.domain.Units;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Where the replicas of a server being removed go: table by table, quotas water-filled over the
 * destinations, replicas matched to them by augmenting paths within the partition, location and capacity
 * rules, then totals evened by reassigning destinations (never adding a move). Works on the planner's
 * {@link Work} in place; records in {@code locationCompromises} the partitions whose only places give one
 * location a majority. One instance per plan; not thread-safe.
 */
final class ReplicaPlacer {
    private final Work w;
    private final int[] dests;
    private final RemoveServers goal;
    private final List<String> locationCompromises;

    ReplicaPlacer(Work w, int[] dests, RemoveServers goal, List<String> locationCompromises) {
        this.w = w;
        this.dests = dests;
        this.goal = goal;
        this.locationCompromises = locationCompromises;
    }

    /** Places the replicas of {@code parts} that are on {@code from}, table by table, then evens the totals. */
    List<PlannedMove> placeAll(List<Integer> parts, int from) {
        Map<TableId, List<Integer>> byTable = new TreeMap<>();
        for (int p : parts) {
            byTable.computeIfAbsent(w.part[p].table(), k -> new ArrayList<>()).add(p);
        }
        List<PlannedMove> planned = new ArrayList<>();
        for (List<Integer> t : byTable.values()) {
            planned.addAll(placeTable(t, from));
        }
        evenTotals(planned);
        return planned;
    }


    /** A move whose destination the repair pass may still change. */
    static final class PlannedMove {
        final int p;
        final int from;
        int to;
        String reason;
        final boolean violatesLocation;

        PlannedMove(int p, int from, int to, String reason, boolean violatesLocation) {
            this.p = p;
            this.from = from;
            this.to = to;
            this.reason = reason;
            this.violatesLocation = violatesLocation;
        }
    }

    /**
     * Places one table's replicas from {@code from}. Quotas are water-filled (fewest of this table, then
     * fewest in total) so that per-table and total counts stay within one; the replicas are then matched to
     * servers within those quotas by augmenting paths (Kuhn), which finds an assignment whenever the
     * partition and location rules allow one. Where they do not, the quota of the best allowed server grows
     * by one: as close as reachable. Capacity is checked last; what does not fit goes greedily where it does.
     */
    private List<PlannedMove> placeTable(List<Integer> parts, int from) {
        int t = w.tableOf[parts.get(0)];
        int[] quota = new int[w.servers];
        PriorityQueue<Integer> fill = new PriorityQueue<>((a, b) -> compareFill(t, a, b, quota));
        for (int d : dests) {
            fill.add(d);
        }
        List<Integer> open = new ArrayList<>();
        for (int k = 0; k < parts.size(); k++) {
            int best = fill.poll();
            if (quota[best]++ == 0) {
                open.add(best);
            }
            fill.add(best);
        }
        int n = parts.size();
        boolean[] violating = new boolean[n];
        boolean[] placeable = new boolean[n];
        for (int i = 0; i < n; i++) {
            int p = parts.get(i);
            boolean any = false;
            boolean clean = false;
            for (int d : dests) {
                if (!w.isOn(p, d) && w.fits(d, p, goal.fillLimit())) {
                    any = true;
                    if (!w.violatesLocation(p, from, d)) {
                        clean = true;
                        break;
                    }
                }
            }
            placeable[i] = any;
            violating[i] = any && !clean;
        }
        Matching m = new Matching(parts, from, violating, quota, open);
        for (int i = 0; i < n; i++) {
            if (!placeable[i]) {
                continue; // handled below: greedy placement explains the refusal
            }
            while (!m.augment(i, new boolean[w.servers])) {
                int grow = -1;
                for (int d : dests) {
                    if (m.allowed(i, d) && (grow < 0 || compareFill(t, d, grow, quota) < 0)) {
                        grow = d;
                    }
                }
                if (quota[grow]++ == 0) {
                    open.add(grow);
                }
            }
        }
        List<PlannedMove> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int p = parts.get(i);
            int to = m.match[i];
            if (to < 0 || !w.fits(to, p, goal.fillLimit())) {
                out.add(placeGreedily(p, from));
            } else {
                out.add(apply(p, from, to, violating[i]));
            }
        }
        return out;
    }

    /** Bipartite matching of one table's replicas to servers within quotas. */
    private final class Matching {
        final List<Integer> parts;
        final int from;
        final boolean[] violating;
        final int[] quota;
        final List<Integer> open;
        final int[] match;
        final List<Integer>[] assigned;

        Matching(List<Integer> parts, int from, boolean[] violating, int[] quota, List<Integer> open) {
            this.parts = parts;
            this.from = from;
            this.violating = violating;
            this.quota = quota;
            this.open = open;
            this.match = new int[parts.size()];
            Arrays.fill(match, -1);
            @SuppressWarnings("unchecked")
            List<Integer>[] lists = new List[w.servers];
            this.assigned = lists;
        }

        boolean allowed(int i, int d) {
            int p = parts.get(i);
            return !w.isOn(p, d) && w.fits(d, p, goal.fillLimit()) && (violating[i] || !w.violatesLocation(p, from, d));
        }

        private List<Integer> assignedTo(int d) {
            if (assigned[d] == null) {
                assigned[d] = new ArrayList<>();
            }
            return assigned[d];
        }

        /** Kuhn's augmenting path: gives replica {@code i} a server, moving earlier assignments where needed. */
        boolean augment(int i, boolean[] visited) {
            for (int d : open) {
                if (!visited[d] && assignedTo(d).size() < quota[d] && allowed(i, d)) {
                    assignedTo(d).add(i);
                    match[i] = d;
                    return true;
                }
            }
            for (int d : open) {
                if (visited[d] || !allowed(i, d)) {
                    continue;
                }
                visited[d] = true;
                List<Integer> a = assignedTo(d);
                for (Integer other : new ArrayList<>(a)) {
                    a.remove(other);
                    match[other] = -1;
                    if (augment(other, visited)) {
                        a.add(i);
                        match[i] = d;
                        return true;
                    }
                    a.add(other);
                    match[other] = d;
                }
            }
            return false;
        }
    }

    private int compareFill(int t, int a, int b, int[] quota) {
        int c = Integer.compare(w.perTable(a, t) + quota[a], w.perTable(b, t) + quota[b]);
        if (c != 0) {
            return c;
        }
        c = Integer.compare(w.total[a] + quota[a], w.total[b] + quota[b]);
        if (c != 0) {
            return c;
        }
        c = Long.compare(w.bytes[a], w.bytes[b]);
        return c != 0 ? c : w.id(a).compareTo(w.id(b));
    }

    /** Records the move in the working placement and explains the choice. */
    private PlannedMove apply(int p, int from, int to, boolean violates) {
        int t = w.tableOf[p];
        int tableBefore = w.perTable(to, t);
        w.move(p, from, to);
        String loc = w.location[to];
        String where = loc == null ? "" : violates
                ? "; no server outside " + loc + " could take it"
                : "; keeps one location from holding a majority";
        if (violates) {
            locationCompromises.add(w.part[p].id().value());
        }
        return new PlannedMove(p, from, to, w.id(to) + ": fewest replicas of table " + w.table[t].name() + " (" + tableBefore
                + ") among the live servers that can take it" + where, violates);
    }

    private PlannedMove placeGreedily(int p, int from) {
        int t = w.tableOf[p];
        int best = -1;
        boolean bestViolates = true;
        List<String> full = new ArrayList<>();
        for (int d : dests) {
            if (w.isOn(p, d)) {
                continue;
            }
            if (!w.fits(d, p, goal.fillLimit())) {
                full.add(w.id(d).value());
                continue;
            }
            boolean violates = w.violatesLocation(p, from, d);
            if (best < 0 || compareDestination(t, d, violates, best, bestViolates) < 0) {
                best = d;
                bestViolates = violates;
            }
        }
        if (best < 0) {
            String why = full.isEmpty()
                    ? "every live server outside the removal already holds a replica of it"
                    : "servers short of room below the " + Math.round(goal.fillLimit() * 100) + "% fill limit: " + String.join(", ", full);
            throw new Refusal(full.isEmpty() ? "Replication factor" : "Destination capacity",
                    "no destination for partition " + w.part[p].id() + " of table " + w.table[t].name()
                            + " (" + Units.bytesOrUnknown(w.part[p].sizeBytes()) + "): " + why);
        }
        return apply(p, from, best, bestViolates);
    }

    private int compareDestination(int t, int a, boolean aViolates, int b, boolean bViolates) {
        if (aViolates != bViolates) {
            return aViolates ? 1 : -1;
        }
        int c = Integer.compare(w.perTable(a, t), w.perTable(b, t));
        if (c != 0) {
            return c;
        }
        c = Integer.compare(w.total[a], w.total[b]);
        if (c != 0) {
            return c;
        }
        c = Long.compare(w.bytes[a], w.bytes[b]);
        return c != 0 ? c : w.id(a).compareTo(w.id(b));
    }

    /**
     * Placement table by table can leave totals two or more apart. Reassign planned destinations (never
     * adding a move) from the fullest server to an emptier one, only where no table's spread grows and the
     * partition, location and capacity rules allow. Each reassignment lowers the sum of squared totals, so
     * the loop ends.
     */
    private void evenTotals(List<PlannedMove> planned) {
        if (planned.isEmpty()) {
            return;
        }
        Map<Integer, List<PlannedMove>> into = new LinkedHashMap<>();
        for (PlannedMove m : planned) {
            into.computeIfAbsent(m.to, k -> new ArrayList<>()).add(m);
        }
        int[] rank = new int[w.servers];
        for (int i = 0; i < dests.length; i++) {
            rank[dests[i]] = i;
        }
        Spans spans = new Spans();
        long[] order = new long[dests.length];
        for (int guard = planned.size() * 2 + 1; guard > 0; guard--) {
            // Fullest first, ties by id: (total, reversed rank) packed so one primitive sort orders them.
            for (int i = 0; i < dests.length; i++) {
                int d = dests[i];
                order[i] = ((long) w.total[d] << 32) | (dests.length - 1 - rank[d]);
            }
            Arrays.sort(order);
            // One pass over the sorted order, reassigning wherever the live counts allow; a pass that
            // changes nothing ran on a fresh order, so it proves no reassignment is left.
            boolean changed = false;
            for (int i = order.length - 1; i >= 0; i--) {
                int hi = dests[dests.length - 1 - (int) (order[i] & 0xffffffffL)];
                List<PlannedMove> candidates = into.getOrDefault(hi, List.of());
                for (int j = 0; j < i && !candidates.isEmpty(); j++) {
                    int lo = dests[dests.length - 1 - (int) (order[j] & 0xffffffffL)];
                    if (w.total[hi] - w.total[lo] < 2) {
                        break; // the rest are closer still (as of this pass's order; the last pass's is fresh)
                    }
                    for (int k = 0; k < candidates.size(); k++) {
                        PlannedMove m = candidates.get(k);
                        if (canReassign(m, lo, spans)) {
                            int t = w.tableOf[m.p];
                            int hiCount = w.perTable(hi, t);
                            int loCount = w.perTable(lo, t);
                            reassign(m, lo);
                            spans.changed(t, hiCount, hiCount - 1);
                            spans.changed(t, loCount, loCount + 1);
                            candidates.remove(k);
                            into.computeIfAbsent(lo, x -> new ArrayList<>()).add(m);
                            changed = true;
                            break;
                        }
                    }
                }
            }
            if (!changed) {
                return;
            }
        }
    }

    /**
     * Per table, how many destinations hold each count of its replicas, and the least and greatest such
     * count: a reassignment changes two counts by one, so both ends update in O(1).
     */
    private final class Spans {
        final int[][] hist = new int[w.tables][];
        final int[] min = new int[w.tables];
        final int[] max = new int[w.tables];

        Spans() {
            for (int t = 0; t < w.tables; t++) {
                int lo = Integer.MAX_VALUE;
                int hi = Integer.MIN_VALUE;
                for (int d : dests) {
                    lo = Math.min(lo, w.perTable(d, t));
                    hi = Math.max(hi, w.perTable(d, t));
                }
                hist[t] = new int[hi + 2];
                for (int d : dests) {
                    hist[t][w.perTable(d, t)]++;
                }
                min[t] = lo;
                max[t] = hi;
            }
        }

        /** One destination's count of table t went from {@code from} to {@code to} (one apart). */
        void changed(int t, int from, int to) {
            if (to >= hist[t].length) {
                hist[t] = Arrays.copyOf(hist[t], to + 2);
            }
            hist[t][from]--;
            hist[t][to]++;
            max[t] = Math.max(max[t], to);
            min[t] = Math.min(min[t], to);
            while (hist[t][max[t]] == 0) {
                max[t]--;
            }
            while (hist[t][min[t]] == 0) {
                min[t]++;
            }
        }
    }

    private boolean canReassign(PlannedMove m, int lo, Spans spans) {
        int t = w.tableOf[m.p];
        // The table's spread among the destinations must not grow: the receiver stays at or below the
        // table's current maximum, the giver at or above its minimum...
        int loCount = w.perTable(lo, t);
        int hiCount = w.perTable(m.to, t);
        int min = spans.min[t];
        int max = spans.max[t];
        // ...and no server joins the table's minimum or maximum unless the other one leaves it.
        if (loCount + 1 > max || (loCount + 1 == max && hiCount != max)) {
            return false;
        }
        if (hiCount - 1 < min || (hiCount - 1 == min && loCount != min)) {
            return false;
        }
        if (w.isOn(m.p, lo) || !w.fits(lo, m.p, goal.fillLimit())) {
            return false;
        }
        return m.violatesLocation || !w.violatesLocation(m.p, m.to, lo);
    }

    private void reassign(PlannedMove m, int lo) {
        int hi = m.to;
        w.move(m.p, hi, lo);
        m.to = lo;
        m.reason = w.id(lo) + ": holds fewer replicas in total than " + w.id(hi) + " (" + w.total[lo] + " vs " + w.total[hi]
                + " after this move) and fewer of table " + w.table[w.tableOf[m.p]].name();
    }

    // ---- result checks -----------------------------------------------------------------
}
