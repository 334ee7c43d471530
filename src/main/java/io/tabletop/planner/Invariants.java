package io.tabletop.planner;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Table;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The safety properties every removal must keep, checked on a cluster before and after: no partition
 * lost, no partition with fewer voters than it had (up to its replication factor), nothing left on the
 * removed servers, exactly one leader each, no learner left behind. Used by tests and by post-checks.
 */
public final class Invariants {
    private Invariants() {
    }

    /** Every violation found, each one line; empty when all hold. */
    public static List<String> violations(ClusterSnapshot before, ClusterSnapshot after, Collection<ServerId> removed) {
        List<String> out = new ArrayList<>();
        for (Partition b : before.partitions()) {
            Optional<Partition> a = after.partition(b.id());
            if (a.isEmpty()) {
                out.add("partition " + b.id() + " is gone");
                continue;
            }
            Partition p = a.get();
            int rf = after.table(p.table()).map(Table::replicationFactor).orElse(b.voterCount());
            int expected = Math.min(rf, Math.max(b.voterCount(), rf));
            if (p.voterCount() < expected) {
                out.add("partition " + p.id() + " has " + p.voterCount() + " voters, expected " + expected);
            }
            if (p.voterCount() > rf) {
                out.add("partition " + p.id() + " has " + p.voterCount() + " voters, more than its replication factor " + rf);
            }
            long leaders = p.replicas().stream().filter(r -> r.role() == ReplicaRole.LEADER).count();
            if (leaders != 1) {
                out.add("partition " + p.id() + " has " + leaders + " leaders");
            }
            for (Replica r : p.replicas()) {
                if (removed.contains(r.server())) {
                    out.add("partition " + p.id() + " still has a replica on removed server " + r.server());
                }
                if (r.role() == ReplicaRole.LEARNER) {
                    out.add("partition " + p.id() + " has a learner left on " + r.server());
                }
                if (after.server(r.server()).map(s -> !s.state().isUp()).orElse(true)) {
                    out.add("partition " + p.id() + " has a replica on " + r.server() + ", which is not up");
                }
            }
        }
        return out;
    }
}
