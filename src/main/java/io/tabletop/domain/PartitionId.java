package io.tabletop.domain;

import java.util.Objects;

/** Identity of a partition (Kudu tablet id, Couchbase vBucket, OpenMLDB table+pid). */
public record PartitionId(String value) implements Comparable<PartitionId> {
    public PartitionId {
        Objects.requireNonNull(value, "partition id");
        if (value.isBlank()) {
            throw new IllegalArgumentException("partition id must not be blank");
        }
    }

    public static PartitionId of(String value) {
        return new PartitionId(value);
    }

    @Override
    public int compareTo(PartitionId o) {
        return Ids.naturalCompare(value, o.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
