package io.tabletop.domain;

import java.util.Objects;

/** A table (Couchbase: a bucket, with replicationFactor = replicas + 1). */
public record Table(TableId id, String name, int replicationFactor) {
    public Table {
        Objects.requireNonNull(id, "id");
        name = name == null || name.isBlank() ? id.value() : name;
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("table " + name + ": replicationFactor must be >= 1, was " + replicationFactor);
        }
    }
}
