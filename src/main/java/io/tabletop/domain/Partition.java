package io.tabletop.domain;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A partition and the copies it has. Replicas are kept in the order given; at most one per server and
 * at most one leader.
 *
 * @param sizeBytes bytes of one copy, 0 to {@link #MAX_COUNT}; {@code null} when unknown (shown as unknown, never as zero)
 * @param rows      rows of one copy, 0 to {@link #MAX_COUNT}; {@code null} when unknown
 */
public record Partition(PartitionId id, TableId table, Long sizeBytes, Long rows, List<Replica> replicas) {
    /**
     * The largest size or row count one copy may state: 2^53 (8 PiB; the largest whole number a JSON reader
     * in any language keeps exact). A larger value is a reading gone wrong, and sums of such values over a
     * cluster would overflow a long; it is refused where it is read.
     */
    public static final long MAX_COUNT = 1L << 53;

    public Partition {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(table, "table of partition " + id);
        replicas = List.copyOf(Objects.requireNonNull(replicas, "replicas of partition " + id));
        Set<ServerId> seen = new HashSet<>();
        int leaders = 0;
        for (Replica r : replicas) {
            if (!seen.add(r.server())) {
                throw new IllegalArgumentException("partition " + id + " has two replicas on server " + r.server());
            }
            if (r.role() == ReplicaRole.LEADER) {
                leaders++;
            }
        }
        if (leaders > 1) {
            throw new IllegalArgumentException("partition " + id + " has " + leaders + " leaders");
        }
        if (sizeBytes != null && (sizeBytes < 0 || sizeBytes > MAX_COUNT)) {
            throw new IllegalArgumentException("partition " + id + ": sizeBytes must be 0 to 2^53, was " + sizeBytes);
        }
        if (rows != null && (rows < 0 || rows > MAX_COUNT)) {
            throw new IllegalArgumentException("partition " + id + ": rows must be 0 to 2^53, was " + rows);
        }
    }

    public Optional<ServerId> leader() {
        for (Replica r : replicas) {
            if (r.role() == ReplicaRole.LEADER) {
                return Optional.of(r.server());
            }
        }
        return Optional.empty();
    }

    public boolean isOn(ServerId server) {
        return roleOn(server).isPresent();
    }

    public Optional<ReplicaRole> roleOn(ServerId server) {
        for (Replica r : replicas) {
            if (r.server().equals(server)) {
                return Optional.of(r.role());
            }
        }
        return Optional.empty();
    }

    public List<ServerId> servers() {
        return replicas.stream().map(Replica::server).toList();
    }

    public List<ServerId> followers() {
        return replicas.stream().filter(r -> r.role() == ReplicaRole.FOLLOWER).map(Replica::server).toList();
    }

    public int voterCount() {
        int n = 0;
        for (Replica r : replicas) {
            if (r.role().isVoter()) {
                n++;
            }
        }
        return n;
    }

    public long sizeOrZero() {
        return sizeBytes == null ? 0L : sizeBytes;
    }

    public long rowsOrZero() {
        return rows == null ? 0L : rows;
    }

    public Partition withReplicas(List<Replica> newReplicas) {
        return new Partition(id, table, sizeBytes, rows, newReplicas);
    }

    /** A copy where {@code server}'s replica has {@code role}, added at the end if absent. */
    public Partition withRole(ServerId server, ReplicaRole role) {
        List<Replica> out = new ArrayList<>(replicas.size() + 1);
        boolean found = false;
        for (Replica r : replicas) {
            if (r.server().equals(server)) {
                out.add(new Replica(server, role));
                found = true;
            } else {
                out.add(r);
            }
        }
        if (!found) {
            out.add(new Replica(server, role));
        }
        return withReplicas(out);
    }

    public Partition without(ServerId server) {
        return withReplicas(replicas.stream().filter(r -> !r.server().equals(server)).toList());
    }
}
