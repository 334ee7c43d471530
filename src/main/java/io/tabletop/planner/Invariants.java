package io.tabletop.planner;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.TableId;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The safety properties every removal must keep, checked on a cluster before and after: no partition
 * lost, no partition with fewer voters than it had (up to its replication factor), nothing left on the
 * removed servers, exactly one leader each, no learner left behind (one that was there before, a replica
 * the engine is still building, is not the plan's), no replica put on a server that is not up (a copy that
 * was on a dead server before is not the plan's either: the engine replaces it). Used by tests and by post-checks.
 */
public final class Invariants {
    private Invariants() {
    }

    /** Every violation found, each one line; empty when all hold. */
    public static List<String> violations(ClusterSnapshot before, ClusterSnapshot after, Collection<ServerId> removed) {
        List<String> out = new ArrayList<>();
        Set<ServerId> up = new HashSet<>();
        after.servers().forEach(s -> {
            if (s.state().isUp()) {
                up.add(s.id());
            }
        });
        Set<ServerId> gone = new HashSet<>(removed);
        Map<TableId, Integer> rfs = new HashMap<>();
        after.tables().forEach(t -> rfs.put(t.id(), t.replicationFactor()));
        boolean samePositions = after.partitions().size() == before.partitions().size();
        for (int i = 0; i < before.partitions().size(); i++) {
            Partition b = before.partitions().get(i);
            Partition p = samePositions && after.partitions().get(i).id().equals(b.id())
                    ? after.partitions().get(i) : after.partition(b.id()).orElse(null);
            if (p == null) {
                out.add("partition " + b.id() + " is gone");
                continue;
            }
            int rf = rfs.getOrDefault(p.table(), b.voterCount());
            int voters = p.voterCount();
            // fewer voters than it had (up to its RF): a partition short of a copy the engine is rebuilding keeps what it had
            if (voters < Math.min(rf, b.voterCount())) {
                out.add("partition " + p.id() + " has " + voters + " voters, expected " + rf);
            }
            if (voters > Math.max(rf, b.voterCount())) {
                out.add("partition " + p.id() + " has " + voters + " voters, more than its replication factor " + rf);
            }
            int leaders = 0;
            for (Replica r : p.replicas()) {
                if (r.role() == ReplicaRole.LEADER) {
                    leaders++;
                }
                if (gone.contains(r.server())) {
                    out.add("partition " + p.id() + " still has a replica on removed server " + r.server());
                }
                if (r.role() == ReplicaRole.LEARNER && !b.roleOn(r.server()).map(x -> x == ReplicaRole.LEARNER).orElse(false)) {
                    out.add("partition " + p.id() + " has a learner left on " + r.server());
                }
                if (!up.contains(r.server()) && !b.isOn(r.server())) {
                    // a copy left on a server that died before the plan is the engine's to replace, not the plan's doing
                    out.add("partition " + p.id() + " has a replica on " + r.server() + ", which is not up");
                }
            }
            if (leaders != 1) {
                out.add("partition " + p.id() + " has " + leaders + " leaders");
            }
        }
        return out;
    }
}
