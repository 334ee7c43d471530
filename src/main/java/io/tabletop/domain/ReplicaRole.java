package io.tabletop.domain;

/** Role of one copy of a partition. */
public enum ReplicaRole {
    /** The voter that serves writes (Couchbase: the active vBucket). */
    LEADER,
    /** A voter that is not the leader (Couchbase: a replica vBucket). */
    FOLLOWER,
    /** A non-voter being built (Kudu NON_VOTER); does not count toward the replication factor. */
    LEARNER,
    /**
     * A copy the engine still lists but that does not serve (OpenMLDB: a {@code partition_meta} row with
     * {@code is_alive=false}, such as the old leader a ChangeLeader leaves until RecoverTable; see
     * src/docs/openmldb.md). Not a voter; its server is never a destination for that partition (the engine
     * refuses one there), and it leaves only through the engine's own recovery.
     */
    STALE;

    public boolean isVoter() {
        return this == LEADER || this == FOLLOWER;
    }
}
