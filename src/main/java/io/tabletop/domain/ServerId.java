package io.tabletop.domain;

import java.util.Objects;

/** Identity of a tablet server (Kudu tserver UUID, Couchbase otpNode, OpenMLDB endpoint, sandbox name). */
public record ServerId(String value) implements Comparable<ServerId> {
    public ServerId {
        Objects.requireNonNull(value, "server id");
        if (value.isBlank()) {
            throw new IllegalArgumentException("server id must not be blank");
        }
    }

    public static ServerId of(String value) {
        return new ServerId(value);
    }

    @Override
    public int compareTo(ServerId o) {
        return Ids.naturalCompare(value, o.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
