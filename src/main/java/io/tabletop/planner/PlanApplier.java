package io.tabletop.planner;

import io.tabletop.domain.Step;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies steps to a snapshot as the engine would, without I/O: the planner's prediction, and the
 * reference the invariant checks compare a real run against. Pure; thread-safe.
 */
public final class PlanApplier {
    private PlanApplier() {
    }

    public static ClusterSnapshot apply(ClusterSnapshot snapshot, List<Step> steps) {
        Map<PartitionId, Partition> parts = new LinkedHashMap<>();
        snapshot.partitions().forEach(p -> parts.put(p.id(), p));
        Map<ServerId, Server> servers = new LinkedHashMap<>();
        snapshot.servers().forEach(s -> servers.put(s.id(), s));
        for (Step s : steps) {
            switch (s.type()) {
                case TRANSFER_LEADER -> {
                    Partition p = parts.get(s.partition());
                    parts.put(p.id(), p.withRole(s.from(), ReplicaRole.FOLLOWER).withRole(s.to(), ReplicaRole.LEADER));
                }
                case MOVE_REPLICA -> {
                    Partition p = parts.get(s.partition());
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
                    parts.put(p.id(), moved);
                }
                case ENTER_MAINTENANCE -> servers.computeIfPresent(s.server(), (k, v) -> v.withState(ServerState.MAINTENANCE));
                case EXIT_MAINTENANCE -> servers.computeIfPresent(s.server(), (k, v) -> v.withState(ServerState.LIVE));
                case STOP_SERVER -> servers.computeIfPresent(s.server(), (k, v) -> v.withState(ServerState.DEAD));
                case UNREGISTER_SERVER -> servers.remove(s.server());
                default -> {
                }
            }
        }
        return new ClusterSnapshot(snapshot.engine(), snapshot.cluster(), snapshot.takenAt(),
                new ArrayList<>(servers.values()), snapshot.tables(), new ArrayList<>(parts.values()));
    }
}
