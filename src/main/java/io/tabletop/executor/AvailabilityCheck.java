package io.tabletop.executor;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Table;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which partitions of a snapshot have lost availability: no majority of their replication factor in
 * voters on live servers, or no live leader. The run's monitor asks this at each look and pauses a run
 * on partitions found twice in a row (a leader election takes a moment). Pure; thread-safe.
 */
final class AvailabilityCheck {
    private AvailabilityCheck() {
    }

    /** Each partition that lost availability, in snapshot order, with one line saying why. */
    static Map<PartitionId, String> lost(ClusterSnapshot c) {
        return lost(c, id -> false);
    }

    /** {@link #lost(ClusterSnapshot)}, counting the servers {@code dead} accepts as down too (silent, not yet declared dead). */
    static Map<PartitionId, String> lost(ClusterSnapshot c, java.util.function.Predicate<io.tabletop.domain.ServerId> dead) {
        Map<PartitionId, String> out = new LinkedHashMap<>();
        for (Partition p : c.partitions()) {
            int rf = c.table(p.table()).map(Table::replicationFactor).orElse(p.voterCount());
            long upVoters = p.replicas().stream().filter(r -> r.role().isVoter() && !dead.test(r.server())
                    && c.server(r.server()).map(x -> x.state().isUp()).orElse(false)).count();
            boolean leader = p.leader().filter(l -> !dead.test(l)).flatMap(c::server).map(x -> x.state().isUp()).orElse(false);
            if (upVoters <= rf / 2) {
                out.put(p.id(), p.id() + " has " + upVoters + " of " + rf + " copies on live servers (no majority)");
            } else if (!leader) {
                out.put(p.id(), p.id() + " has no live leader");
            }
        }
        return out;
    }
}
