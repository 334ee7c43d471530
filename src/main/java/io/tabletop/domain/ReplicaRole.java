package io.tabletop.domain;

/** Role of one copy of a partition. */
public enum ReplicaRole {
    /** The voter that serves writes (Couchbase: the active vBucket). */
    LEADER,
    /** A voter that is not the leader (Couchbase: a replica vBucket). */
    FOLLOWER,
    /** A non-voter being built (Kudu NON_VOTER); does not count toward the replication factor. */
    LEARNER;

    public boolean isVoter() {
        return this != LEARNER;
    }
}
