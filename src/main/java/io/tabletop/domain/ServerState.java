package io.tabletop.domain;

/** Liveness and administrative state of a server. */
public enum ServerState {
    /** Up and accepting new replicas. */
    LIVE,
    /** Up, but in maintenance mode: receives no new replicas; its downtime triggers no re-replication. */
    MAINTENANCE,
    /** Not heartbeating. Its replicas still count in their partitions' configs until evicted. */
    DEAD;

    /** Whether the process answers (LIVE or MAINTENANCE). */
    public boolean isUp() {
        return this != DEAD;
    }
}
