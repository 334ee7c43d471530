package io.tabletop.service;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ServerId;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The copies a cluster still keeps on servers that died: what "Replace the dead copies now" drops, and
 * what the engine replaces by itself otherwise. Pure.
 */
final class DeadCopies {
    private DeadCopies() {
    }

    /**
     * One copy on a dead server.
     *
     * @param majorityWithout whether the partition's other voters on live servers are a majority of the config
     *                        without this copy: only then can the engine commit the change that drops it
     */
    record Copy(PartitionId partition, ServerId server, boolean voter, boolean majorityWithout) {
    }

    static List<Copy> find(ClusterSnapshot c, Collection<ServerId> dead) {
        List<Copy> out = new ArrayList<>();
        for (Partition p : c.partitions()) {
            for (Replica r : p.replicas()) {
                if (!dead.contains(r.server())) {
                    continue;
                }
                long votersAfter = p.replicas().stream().filter(x -> x.role().isVoter() && !x.server().equals(r.server())).count();
                long liveVotersAfter = p.replicas().stream().filter(x -> x.role().isVoter() && !dead.contains(x.server())
                        && c.server(x.server()).map(s -> s.state().isUp()).orElse(false)).count();
                out.add(new Copy(p.id(), r.server(), r.role().isVoter(), liveVotersAfter * 2 > votersAfter));
            }
        }
        return out;
    }
}
