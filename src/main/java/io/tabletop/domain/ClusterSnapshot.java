package io.tabletop.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The engine-neutral state of a cluster at one moment. Immutable and thread-safe.
 *
 * <p>Validated on construction: ids are unique, every partition names a known table, every replica a
 * known server. Lists keep the order given; lookups by id are O(1).
 */
public final class ClusterSnapshot {
    private final Engine engine;
    private final String cluster;
    private final Instant takenAt;
    private final List<Server> servers;
    private final List<Table> tables;
    private final List<Partition> partitions;
    private final Map<ServerId, Server> serverIndex;
    private final Map<TableId, Table> tableIndex;
    /** Position of each partition in {@link #partitions}; shared by copies that keep the same partitions. */
    private final Map<PartitionId, Integer> partitionIndex;
    /** {@link #loads()}, computed on first use: the snapshot never changes, and views ask for it often. */
    private volatile Map<ServerId, ServerLoad> loads;

    public ClusterSnapshot(Engine engine, String cluster, Instant takenAt,
                           List<Server> servers, List<Table> tables, List<Partition> partitions) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.cluster = cluster == null || cluster.isBlank() ? engine.wireName() : cluster;
        this.takenAt = takenAt;
        this.servers = List.copyOf(servers);
        this.tables = List.copyOf(tables);
        this.partitions = List.copyOf(partitions);
        this.serverIndex = index(this.servers, Server::id, "server");
        this.tableIndex = index(this.tables, Table::id, "table");
        Map<PartitionId, Integer> pos = new HashMap<>(this.partitions.size() * 2);
        for (int i = 0; i < this.partitions.size(); i++) {
            if (pos.put(this.partitions.get(i).id(), i) != null) {
                throw new IllegalArgumentException("duplicate partition id " + this.partitions.get(i).id());
            }
        }
        this.partitionIndex = Collections.unmodifiableMap(pos);
        this.partitions.forEach(this::validate);
    }

    /** A copy sharing the partition index of {@code base}: only the replaced partitions are checked again. */
    private ClusterSnapshot(ClusterSnapshot base, List<Server> servers, List<Partition> partitions, List<Partition> replaced) {
        this.engine = base.engine;
        this.cluster = base.cluster;
        this.takenAt = base.takenAt;
        this.servers = List.copyOf(servers);
        this.tables = base.tables;
        this.partitions = Collections.unmodifiableList(partitions);
        this.serverIndex = index(this.servers, Server::id, "server");
        this.tableIndex = base.tableIndex;
        this.partitionIndex = base.partitionIndex;
        replaced.forEach(this::validate);
    }

    private void validate(Partition p) {
        if (!tableIndex.containsKey(p.table())) {
            throw new IllegalArgumentException("partition " + p.id() + " names unknown table " + p.table());
        }
        for (Replica r : p.replicas()) {
            if (!serverIndex.containsKey(r.server())) {
                throw new IllegalArgumentException("partition " + p.id() + " has a replica on unknown server " + r.server());
            }
        }
    }

    /**
     * A copy with {@code replaced} standing in for the partitions of the same ids (which must exist) and
     * the given servers. Costs a copy of the partition list, not a new index: the planner's prediction of
     * a million-replica cluster in milliseconds. Partitions not replaced are not checked against the new
     * servers; {@code Invariants} is what finds a replica left on a server that is gone.
     */
    public ClusterSnapshot withReplaced(Collection<Partition> replaced, List<Server> newServers) {
        Partition[] out = partitions.toArray(new Partition[0]);
        for (Partition p : replaced) {
            Integer i = partitionIndex.get(p.id());
            if (i == null) {
                throw new IllegalArgumentException("unknown partition " + p.id());
            }
            out[i] = p;
        }
        return new ClusterSnapshot(this, newServers, Arrays.asList(out), List.copyOf(replaced));
    }

    private static <K, V> Map<K, V> index(List<V> values, Function<V, K> key, String what) {
        Map<K, V> map = new HashMap<>(values.size() * 2);
        for (V v : values) {
            if (map.put(key.apply(v), v) != null) {
                throw new IllegalArgumentException("duplicate " + what + " id " + key.apply(v));
            }
        }
        return Collections.unmodifiableMap(map);
    }

    public Engine engine() {
        return engine;
    }

    public String cluster() {
        return cluster;
    }

    /** When the snapshot was read; {@code null} for hand-written snapshots. */
    public Instant takenAt() {
        return takenAt;
    }

    public List<Server> servers() {
        return servers;
    }

    public List<Table> tables() {
        return tables;
    }

    public List<Partition> partitions() {
        return partitions;
    }

    public Optional<Server> server(ServerId id) {
        return Optional.ofNullable(serverIndex.get(id));
    }

    public Optional<Table> table(TableId id) {
        return Optional.ofNullable(tableIndex.get(id));
    }

    public Optional<Partition> partition(PartitionId id) {
        Integer i = partitionIndex.get(id);
        return i == null ? Optional.empty() : Optional.of(partitions.get(i));
    }

    /** Position of the partition in {@link #partitions()}, or -1. */
    public int indexOf(PartitionId id) {
        Integer i = partitionIndex.get(id);
        return i == null ? -1 : i;
    }

    public boolean hasLocations() {
        return servers.stream().anyMatch(s -> s.location() != null);
    }

    /** Finds a server by id, or else by address (for command lines that name servers either way). */
    public Optional<Server> findServer(String idOrAddress) {
        Server byId = serverIndex.get(new ServerId(idOrAddress));
        if (byId != null) {
            return Optional.of(byId);
        }
        return servers.stream().filter(s -> s.address().equals(idOrAddress)).findFirst();
    }

    /** Per-server replica and leader counts, bytes and rows, in server order. Computed once. */
    public Map<ServerId, ServerLoad> loads() {
        Map<ServerId, ServerLoad> known = loads;
        if (known == null) {
            known = computeLoads();
            loads = known; // a race computes it twice, with the same result
        }
        return known;
    }

    private Map<ServerId, ServerLoad> computeLoads() {
        Map<ServerId, long[]> acc = new LinkedHashMap<>();
        for (Server s : servers) {
            acc.put(s.id(), new long[5]);
        }
        for (Partition p : partitions) {
            for (Replica r : p.replicas()) {
                long[] a = acc.get(r.server());
                a[0]++;
                a[2] = saturated(a[2], p.sizeOrZero());
                if (r.role() == ReplicaRole.LEADER) {
                    a[1]++;
                    a[3] = saturated(a[3], p.rowsOrZero());
                } else {
                    a[4] = saturated(a[4], p.rowsOrZero());
                }
            }
        }
        Map<ServerId, ServerLoad> out = new LinkedHashMap<>();
        acc.forEach((id, a) -> out.put(id, new ServerLoad(id, (int) a[0], (int) a[1], a[2], a[3], a[4])));
        return Collections.unmodifiableMap(out);
    }

    /** {@code a + b} of two non-negative counts, or {@link Long#MAX_VALUE} where it would overflow (never negative). */
    static long saturated(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    /** A copy with the given partitions replacing those with the same id. */
    public ClusterSnapshot withPartitions(List<Partition> newPartitions) {
        return new ClusterSnapshot(engine, cluster, takenAt, servers, tables, newPartitions);
    }

    public ClusterSnapshot withServers(List<Server> newServers) {
        return new ClusterSnapshot(engine, cluster, takenAt, newServers, tables, partitions);
    }

    public ClusterSnapshot withServerState(ServerId id, ServerState state) {
        List<Server> out = new ArrayList<>(servers.size());
        for (Server s : servers) {
            out.add(s.id().equals(id) ? s.withState(state) : s);
        }
        return withServers(out);
    }

    @Override
    public String toString() {
        return "ClusterSnapshot[" + engine.wireName() + " " + cluster + ": " + servers.size() + " servers, "
                + tables.size() + " tables, " + partitions.size() + " partitions]";
    }
}
