package io.tabletop.planner;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.Step;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;

import java.util.List;
import java.util.Map;

/**
 * The ordered steps that reach a goal, with the checks that allowed it and the predicted result. What the
 * preview shows is this object, and it is this object that runs. Immutable.
 *
 * @param before the snapshot the plan was made from
 * @param after    the predicted cluster once every step has run
 * @param forecast for an engine that moves data itself (Couchbase): per bucket, what each node holds
 *                 before and after; empty otherwise
 */
public record Plan(ClusterSnapshot before, Goal goal, EngineCapabilities capabilities, List<Phase> phases,
                   List<Step> steps, List<CheckResult> checks, ClusterSnapshot after, Summary summary,
                   List<BucketForecast> forecast) {
    public Plan {
        forecast = forecast == null ? List.of() : List.copyOf(forecast);
        phases = List.copyOf(phases);
        steps = List.copyOf(steps);
        checks = List.copyOf(checks);
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).index() != i) {
                throw new IllegalArgumentException("step " + i + " carries index " + steps.get(i).index());
            }
        }
    }

    /**
     * Totals a reviewer signs off.
     *
     * @param estimatedSeconds wall time at the engine's declared speed and the plan's concurrency
     */
    public record Summary(int replicaMoves, int leaderTransfers, long bytesToMove, double estimatedSeconds,
                          int maxMovesPerServer) {
    }

    public List<ServerId> removedServers() {
        return goal instanceof RemoveServers r ? r.servers() : List.of();
    }

    public Map<ServerId, ServerLoad> loadsBefore() {
        return before.loads();
    }

    public Map<ServerId, ServerLoad> loadsAfter() {
        return after.loads();
    }

    public List<Step> stepsOfPhase(int phase) {
        return steps.stream().filter(s -> s.phase() == phase).toList();
    }
}
