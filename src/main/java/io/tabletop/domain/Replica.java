package io.tabletop.domain;

import java.util.Objects;

/** One copy of a partition on one server. */
public record Replica(ServerId server, ReplicaRole role) {
    public Replica {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(role, "role");
    }

    public static Replica leader(String server) {
        return new Replica(ServerId.of(server), ReplicaRole.LEADER);
    }

    public static Replica follower(String server) {
        return new Replica(ServerId.of(server), ReplicaRole.FOLLOWER);
    }
}
