package io.tabletop.planner;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * The planner's working copy of a cluster: servers, tables and partitions numbered once, replicas in flat
 * arrays, and the counts every rule reads (replicas per server and per table, leaders, bytes), kept
 * current by {@link #move} and {@link #transfer}. No hashing and no allocation on the hot path, so a
 * million replicas plan in well under a second. Not thread-safe: one planner run owns it.
 */
final class Work {
    static final byte LEADER = 0;
    static final byte FOLLOWER = 1;
    static final byte LEARNER = 2;

    final ClusterSnapshot snap;
    final int servers;
    final int tables;
    final int partitions;
    final Server[] server;
    final Table[] table;
    final Partition[] part;
    final Map<ServerId, Integer> serverNo = new HashMap<>();
    final int[] rf;
    final int[] tableOf;
    final long[] size;
    /** Replicas of partition p are at [off[p], off[p+1]). */
    final int[] off;
    final int[] repServer;
    final byte[] repRole;
    final int[] total;
    final int[] leaders;
    final long[] bytes;
    final long[] used;
    /** perTable[s * tables + t]. */
    final int[] perTable;
    final String[] location;
    final boolean[] up;
    final boolean[] live;
    /** Partitions that have or had a replica on each server, in order of arrival; check {@link #isOn}. */
    final IntList[] on;

    Work(ClusterSnapshot snap) {
        this.snap = snap;
        this.servers = snap.servers().size();
        this.tables = snap.tables().size();
        this.partitions = snap.partitions().size();
        this.server = snap.servers().toArray(new Server[0]);
        this.table = snap.tables().toArray(new Table[0]);
        this.part = snap.partitions().toArray(new Partition[0]);
        Map<TableId, Integer> tableNo = new HashMap<>();
        rf = new int[tables];
        for (int t = 0; t < tables; t++) {
            tableNo.put(table[t].id(), t);
            rf[t] = table[t].replicationFactor();
        }
        location = new String[servers];
        up = new boolean[servers];
        live = new boolean[servers];
        on = new IntList[servers];
        for (int s = 0; s < servers; s++) {
            serverNo.put(server[s].id(), s);
            location[s] = server[s].location();
            up[s] = server[s].state().isUp();
            live[s] = server[s].state() == ServerState.LIVE;
            on[s] = new IntList();
        }
        tableOf = new int[partitions];
        size = new long[partitions];
        off = new int[partitions + 1];
        int replicas = 0;
        for (int p = 0; p < partitions; p++) {
            replicas += part[p].replicas().size();
        }
        repServer = new int[replicas];
        repRole = new byte[replicas];
        total = new int[servers];
        leaders = new int[servers];
        bytes = new long[servers];
        used = new long[servers];
        perTable = new int[servers * tables];
        int k = 0;
        for (int p = 0; p < partitions; p++) {
            Partition pp = part[p];
            int t = tableNo.get(pp.table());
            tableOf[p] = t;
            size[p] = pp.sizeOrZero();
            off[p] = k;
            for (Replica r : pp.replicas()) {
                int s = serverNo.get(r.server());
                repServer[k] = s;
                repRole[k] = switch (r.role()) {
                    case LEADER -> LEADER;
                    case FOLLOWER -> FOLLOWER;
                    case LEARNER, STALE -> LEARNER; // neither votes; both leave a drained server like any copy
                };
                k++;
                total[s]++;
                perTable[s * tables + t]++;
                bytes[s] += size[p];
                if (r.role() == ReplicaRole.LEADER) {
                    leaders[s]++;
                }
                on[s].add(p);
            }
        }
        off[partitions] = k;
        for (int s = 0; s < servers; s++) {
            used[s] = server[s].usedBytes() != null ? server[s].usedBytes() : bytes[s];
        }
    }

    int no(ServerId id) {
        Integer s = serverNo.get(id);
        if (s == null) {
            throw new IllegalArgumentException("unknown server " + id);
        }
        return s;
    }

    ServerId id(int s) {
        return server[s].id();
    }

    int perTable(int s, int t) {
        return perTable[s * tables + t];
    }

    int slot(int p, int s) {
        for (int k = off[p]; k < off[p + 1]; k++) {
            if (repServer[k] == s) {
                return k;
            }
        }
        return -1;
    }

    boolean isOn(int p, int s) {
        return slot(p, s) >= 0;
    }

    byte role(int p, int s) {
        int k = slot(p, s);
        if (k < 0) {
            throw new IllegalStateException(id(s) + " holds no replica of " + part[p].id());
        }
        return repRole[k];
    }

    int leaderOf(int p) {
        for (int k = off[p]; k < off[p + 1]; k++) {
            if (repRole[k] == LEADER) {
                return repServer[k];
            }
        }
        return -1;
    }

    boolean fits(int s, int p, double fillLimit) {
        Server d = server[s];
        return !d.hasCapacity() || used[s] + size[p] <= fillLimit * d.capacityBytes();
    }

    /**
     * Whether {@code p}'s replica on {@code from} arriving on {@code dest} would give {@code dest}'s location a
     * majority of the partition's replicas (Kudu's placement rule). A single replica is a majority wherever
     * it is, so RF 1 never counts.
     */
    boolean violatesLocation(int p, int from, int dest) {
        String loc = location[dest];
        int r = rf[tableOf[p]];
        if (loc == null || r < 2) {
            return false;
        }
        int same = 0;
        for (int k = off[p]; k < off[p + 1]; k++) {
            int s = repServer[k];
            if (s != from && s != dest && loc.equals(location[s])) {
                same++;
            }
        }
        return same + 1 > r / 2;
    }

    /** Moves {@code p}'s replica from {@code from} to {@code to}; a moved leader leads on arrival, a learner arrives as a follower. */
    void move(int p, int from, int to) {
        int k = slot(p, from);
        if (k < 0 || slot(p, to) >= 0) {
            throw new IllegalStateException("cannot move " + part[p].id() + " from " + id(from) + " to " + id(to));
        }
        boolean leader = repRole[k] == LEADER;
        repServer[k] = to;
        repRole[k] = leader ? LEADER : FOLLOWER;
        int t = tableOf[p];
        total[from]--;
        total[to]++;
        perTable[from * tables + t]--;
        perTable[to * tables + t]++;
        bytes[from] -= size[p];
        bytes[to] += size[p];
        used[from] -= size[p];
        used[to] += size[p];
        if (leader) {
            leaders[from]--;
            leaders[to]++;
        }
        on[to].add(p);
    }

    void transfer(int p, int from, int to) {
        int a = slot(p, from);
        int b = slot(p, to);
        if (a < 0 || b < 0 || repRole[a] != LEADER || repRole[b] != FOLLOWER) {
            throw new IllegalStateException("cannot hand leadership of " + part[p].id() + " from " + id(from) + " to " + id(to));
        }
        repRole[a] = FOLLOWER;
        repRole[b] = LEADER;
        leaders[from]--;
        leaders[to]++;
    }

    /** Fewer leaders first, then fewer replicas, then id: who should lead next. */
    int compareForLeadership(int a, int b) {
        int c = Integer.compare(leaders[a], leaders[b]);
        if (c != 0) {
            return c;
        }
        c = Integer.compare(total[a], total[b]);
        return c != 0 ? c : server[a].id().compareTo(server[b].id());
    }

    /** Partitions with a replica on {@code s} now, each once. */
    IntList partitionsOn(int s) {
        IntList out = new IntList();
        IntList all = on[s];
        BitSet seen = new BitSet(partitions);
        for (int i = 0; i < all.size(); i++) {
            int p = all.get(i);
            if (!seen.get(p) && isOn(p, s)) {
                seen.set(p);
                out.add(p);
            }
        }
        return out;
    }

    /** A growable list of ints. */
    static final class IntList {
        private int[] a = new int[4];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int get(int i) {
            return a[i];
        }

        int size() {
            return n;
        }

        void removeAt(int i) {
            a[i] = a[--n];
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
