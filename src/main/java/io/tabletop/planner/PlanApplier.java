package io.tabletop.planner;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies steps to a snapshot as the engine would, without I/O: the planner's prediction, and the
 * reference the invariant checks compare a real run against. Only the partitions the steps touch are
 * copied, so a prediction costs what the plan changes. Pure; thread-safe.
 */
public final class PlanApplier {
    private PlanApplier() {
    }

    public static ClusterSnapshot apply(ClusterSnapshot snapshot, List<Step> steps) {
        Map<PartitionId, Partition> changed = new LinkedHashMap<>();
        Map<ServerId, Server> servers = new LinkedHashMap<>();
        snapshot.servers().forEach(s -> servers.put(s.id(), s));
        for (Step s : steps) {
            switch (s.type()) {
                case TRANSFER_LEADER -> {
                    Partition p = current(snapshot, changed, s);
                    changed.put(p.id(), p.withRole(s.from(), ReplicaRole.FOLLOWER).withRole(s.to(), ReplicaRole.LEADER));
                }
                case MOVE_REPLICA -> {
                    Partition p = current(snapshot, changed, s);
                    ReplicaRole role = p.roleOn(s.from()).orElseThrow(() ->
                            new IllegalStateException("step " + s.index() + ": " + s.from() + " holds no replica of " + p.id()));
                    List<Replica> out = new ArrayList<>();
                    for (Replica r : p.replicas()) {
                        out.add(r.server().equals(s.from()) ? new Replica(s.to(), ReplicaRole.FOLLOWER) : r);
                    }
                    Partition moved = p.withReplicas(out);
                    if (role == ReplicaRole.LEADER) {
                        moved = moved.withRole(s.to(), ReplicaRole.LEADER);
                    }
                    changed.put(p.id(), moved);
                }
                case ENTER_MAINTENANCE -> servers.computeIfPresent(s.server(), (k, v) -> v.withState(ServerState.MAINTENANCE));
                case EXIT_MAINTENANCE -> servers.computeIfPresent(s.server(), (k, v) -> v.withState(ServerState.LIVE));
                case STOP_SERVER -> servers.computeIfPresent(s.server(), (k, v) -> v.withState(ServerState.DEAD));
                case UNREGISTER_SERVER -> servers.remove(s.server());
                default -> {
                }
            }
        }
        return snapshot.withReplaced(changed.values(), new ArrayList<>(servers.values()));
    }

    private static Partition current(ClusterSnapshot snapshot, Map<PartitionId, Partition> changed, Step s) {
        Partition p = changed.get(s.partition());
        return p != null ? p : snapshot.partition(s.partition()).orElseThrow(() ->
                new IllegalStateException("step " + s.index() + " names unknown partition " + s.partition()));
    }
}
