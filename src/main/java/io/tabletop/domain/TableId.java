package io.tabletop.domain;

import java.util.Objects;

/** Identity of a table (Couchbase: a bucket). */
public record TableId(String value) implements Comparable<TableId> {
    public TableId {
        Objects.requireNonNull(value, "table id");
        if (value.isBlank()) {
            throw new IllegalArgumentException("table id must not be blank");
        }
    }

    public static TableId of(String value) {
        return new TableId(value);
    }

    @Override
    public int compareTo(TableId o) {
        return Ids.naturalCompare(value, o.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
