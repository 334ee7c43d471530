package io.tabletop.service;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared checks for run tests in this package. */
final class PlanExecutionTestAccess {
    private PlanExecutionTestAccess() {
    }

    /** No partition has fewer voters than its replication factor, and none vanished. */
    static void assertNoReplicaLost(ClusterSnapshot before, ClusterSnapshot after) {
        for (Partition b : before.partitions()) {
            Partition a = after.partition(b.id()).orElseThrow(() -> new AssertionError(b.id() + " vanished"));
            int rf = after.table(a.table()).orElseThrow().replicationFactor();
            long liveVoters = a.replicas().stream().filter(r -> r.role().isVoter()
                    && after.server(r.server()).map(s -> s.state().isUp()).orElse(false)).count();
            assertTrue(liveVoters >= rf, a.id() + " has " + liveVoters + " live voters, RF " + rf);
        }
    }
}
