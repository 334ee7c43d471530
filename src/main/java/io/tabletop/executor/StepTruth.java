package io.tabletop.executor;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;

import java.util.Optional;

/** Whether a step's effect is already true in a cluster, so that a retry or a resume never repeats it. */
public final class StepTruth {
    private StepTruth() {
    }

    public static boolean isDone(Step s, ClusterSnapshot c) {
        return switch (s.type()) {
            case MOVE_REPLICA -> c.partition(s.partition()).map(p -> !p.isOn(s.from())
                    && p.roleOn(s.to()).map(ReplicaRole::isVoter).orElse(false)).orElse(false);
            case TRANSFER_LEADER -> c.partition(s.partition()).flatMap(Partition::leader).map(s.to()::equals).orElse(false);
            case ENTER_MAINTENANCE -> state(c, s).map(st -> st == ServerState.MAINTENANCE).orElse(false);
            case EXIT_MAINTENANCE -> state(c, s).map(st -> st == ServerState.LIVE).orElse(false);
            case STOP_SERVER -> state(c, s).map(st -> st == ServerState.DEAD).orElse(true);
            case UNREGISTER_SERVER -> c.server(s.server()).isEmpty();
            case FAILOVER -> s.servers().stream().allMatch(id -> c.server(id).map(x -> x.state() == ServerState.DEAD).orElse(true)
                    && c.partitions().stream().noneMatch(p -> p.isOn(id)));
            case HEALTH_GATE, ENGINE_REBALANCE -> false;
        };
    }

    private static Optional<ServerState> state(ClusterSnapshot c, Step s) {
        return c.server(s.server()).map(x -> x.state());
    }
}
