package io.tabletop.planner;

import io.tabletop.domain.Step;
import io.tabletop.planner.Work.IntList;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Evens leaders with transfers only (no data moves) among the servers allowed to lead.
 * <ol>
 *   <li>Servers above the ceiling of the average hand partitions to their least-leading follower when
 *       that server is below the ceiling and leads at least two fewer;</li>
 *   <li>servers below the floor take over partitions they follow from servers above it;</li>
 *   <li>what is left is finished by augmenting paths: a chain of transfers from a most-leading server to
 *       one that leads at least two fewer, each server on the way giving one and taking one. When no such
 *       chain exists from the most-leading servers (nor to the least-leading ones), the leaders those
 *       servers hold have no follower outside a set whose average is already that high, so no sequence of
 *       transfers could lower the skew: the result is as even as the placement allows, and a skew of at
 *       most 1 wherever that is reachable.</li>
 * </ol>
 * Every transfer moves a leader from a server to one with at least two fewer (a chain counts as one such
 * move), so each lowers the sum of squared leader counts: no transfer that does not help.
 */
final class LeaderBalance {
    private final Work w;
    private final boolean[] eligible;
    private final int phase;
    private final IntList[] led;
    private final List<Step> out = new ArrayList<>();
    private final int stopAt;

    private LeaderBalance(Work w, boolean[] eligible, int phase, int stopAt) {
        this.w = w;
        this.eligible = eligible;
        this.phase = phase;
        this.stopAt = Math.max(1, stopAt);
        this.led = new IntList[w.servers];
    }

    /** The transfers that even leaders out as far as transfers can, applied to {@code w} as they are chosen. */
    static List<Step> run(Work w, boolean[] eligible, int phase) {
        return new LeaderBalance(w, eligible, phase, 1).balance();
    }

    /**
     * Only as many transfers (augmenting chains, each lowering the skew's ends) as bring the leader skew
     * back to {@code skew}: a plan without the balancing phase still never leaves leaders worse than it found them.
     */
    static List<Step> restore(Work w, boolean[] eligible, int phase, int skew) {
        return new LeaderBalance(w, eligible, phase, skew).balance();
    }

    private List<Step> balance() {
        int n = 0;
        long sum = 0;
        for (int s = 0; s < w.servers; s++) {
            if (eligible[s]) {
                led[s] = new IntList();
                n++;
                sum += w.leaders[s];
            }
        }
        if (n < 2) {
            return out;
        }
        for (int p = 0; p < w.partitions; p++) {
            int u = w.leaderOf(p);
            if (u >= 0 && eligible[u]) {
                led[u].add(p);
            }
        }
        if (stopAt == 1) {
            int floor = (int) (sum / n);
            int ceil = sum % n == 0 ? floor : floor + 1;
            shedAboveCeiling(ceil);
            fillBelowFloor(floor);
        }
        boolean maxStuck = false;
        boolean minStuck = false;
        for (int guard = w.partitions + 1; guard > 0; guard--) {
            int max = Integer.MIN_VALUE;
            int min = Integer.MAX_VALUE;
            for (int s = 0; s < w.servers; s++) {
                if (eligible[s]) {
                    max = Math.max(max, w.leaders[s]);
                    min = Math.min(min, w.leaders[s]);
                }
            }
            if (max - min <= stopAt) {
                break;
            }
            if (!maxStuck && chainFromMost(max)) {
                continue;
            }
            maxStuck = true;
            if (!minStuck && chainToLeast(min)) {
                continue;
            }
            minStuck = true;
            break;
        }
        return out;
    }

    private void shedAboveCeiling(int ceil) {
        for (int u : byLeadersDescending()) {
            IntList l = led[u];
            int i = 0;
            while (i < l.size() && w.leaders[u] > ceil) {
                int p = l.get(i);
                if (w.leaderOf(p) != u) {
                    l.removeAt(i);
                    continue;
                }
                int v = leastLeadingFollower(p);
                if (v >= 0 && w.leaders[v] < ceil && w.leaders[u] - w.leaders[v] >= 2) {
                    l.removeAt(i);
                    transfer(p, u, v, null);
                } else {
                    i++;
                }
            }
        }
    }

    private void fillBelowFloor(int floor) {
        for (int v = 0; v < w.servers; v++) {
            if (!eligible[v] || w.leaders[v] >= floor) {
                continue;
            }
            IntList on = w.on[v];
            for (int i = 0; i < on.size() && w.leaders[v] < floor; i++) {
                int p = on.get(i);
                int k = w.slot(p, v);
                if (k < 0 || w.repRole[k] != Work.FOLLOWER) {
                    continue;
                }
                int u = w.leaderOf(p);
                if (u >= 0 && eligible[u] && w.leaders[u] > floor && w.leaders[u] - w.leaders[v] >= 2) {
                    transfer(p, u, v, null);
                }
            }
        }
    }

    /** Breadth-first from every most-leading server along "leads a partition that this server follows". */
    private boolean chainFromMost(int max) {
        int[] parent = new int[w.servers];
        int[] via = new int[w.servers];
        Arrays.fill(parent, -2);
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int s = 0; s < w.servers; s++) {
            if (eligible[s] && w.leaders[s] == max) {
                parent[s] = -1;
                queue.add(s);
            }
        }
        while (!queue.isEmpty()) {
            int u = queue.poll();
            IntList l = led[u];
            for (int i = 0; i < l.size(); i++) {
                int p = l.get(i);
                if (w.leaderOf(p) != u) {
                    l.removeAt(i--);
                    continue;
                }
                for (int k = w.off[p]; k < w.off[p + 1]; k++) {
                    int v = w.repServer[k];
                    if (w.repRole[k] != Work.FOLLOWER || !eligible[v] || !w.up[v] || parent[v] != -2) {
                        continue;
                    }
                    parent[v] = u;
                    via[v] = p;
                    if (w.leaders[v] <= max - 2) {
                        applyChain(v, parent, via);
                        return true;
                    }
                    queue.add(v);
                }
            }
        }
        return false;
    }

    /** Breadth-first backwards from every least-leading server, to a server leading two more. */
    private boolean chainToLeast(int min) {
        int[] child = new int[w.servers];
        int[] via = new int[w.servers];
        Arrays.fill(child, -2);
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int s = 0; s < w.servers; s++) {
            if (eligible[s] && w.up[s] && w.leaders[s] == min) {
                child[s] = -1;
                queue.add(s);
            }
        }
        while (!queue.isEmpty()) {
            int v = queue.poll();
            IntList on = w.on[v];
            for (int i = 0; i < on.size(); i++) {
                int p = on.get(i);
                int k = w.slot(p, v);
                if (k < 0 || w.repRole[k] != Work.FOLLOWER) {
                    continue;
                }
                int u = w.leaderOf(p);
                if (u < 0 || !eligible[u] || child[u] != -2) {
                    continue;
                }
                child[u] = v;
                via[u] = p;
                if (w.leaders[u] >= min + 2) {
                    List<int[]> chain = new ArrayList<>();
                    for (int x = u; child[x] != -1; x = child[x]) {
                        chain.add(new int[]{via[x], x, child[x]});
                    }
                    applyTransfers(chain);
                    return true;
                }
                queue.add(u);
            }
        }
        return false;
    }

    private void applyChain(int end, int[] parent, int[] via) {
        List<int[]> chain = new ArrayList<>();
        for (int x = end; parent[x] != -1; x = parent[x]) {
            chain.add(0, new int[]{via[x], parent[x], x});
        }
        applyTransfers(chain);
    }

    /** Each element: {partition, from, to}, from the server that gives to the one that ends with one more. */
    private void applyTransfers(List<int[]> chain) {
        if (chain.size() == 1) {
            int[] c = chain.get(0);
            transfer(c[0], c[1], c[2], null);
            return;
        }
        StringBuilder path = new StringBuilder(w.id(chain.get(0)[1]).value());
        for (int[] c : chain) {
            path.append(" → ").append(w.id(c[2]).value());
        }
        for (int[] c : chain) {
            transfer(c[0], c[1], c[2], path.toString());
        }
    }

    private void transfer(int p, int from, int to, String chain) {
        w.transfer(p, from, to);
        led[to].add(p);
        String reason = chain == null
                ? "evens leaders: " + w.id(from) + " " + (w.leaders[from] + 1) + " → " + w.leaders[from] + ", "
                + w.id(to) + " " + (w.leaders[to] - 1) + " → " + w.leaders[to]
                : "evens leaders along the chain " + chain + " (each server on the way gives one and takes one)";
        out.add(Step.transfer(phase, w.part[p].id(), w.part[p].table(), w.id(from), w.id(to), reason));
    }

    private int leastLeadingFollower(int p) {
        int best = -1;
        for (int k = w.off[p]; k < w.off[p + 1]; k++) {
            int s = w.repServer[k];
            if (w.repRole[k] == Work.FOLLOWER && eligible[s] && w.up[s] && (best < 0 || w.compareForLeadership(s, best) < 0)) {
                best = s;
            }
        }
        return best;
    }

    private int[] byLeadersDescending() {
        List<Integer> ids = new ArrayList<>();
        for (int s = 0; s < w.servers; s++) {
            if (eligible[s]) {
                ids.add(s);
            }
        }
        ids.sort((a, b) -> w.compareForLeadership(b, a));
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
