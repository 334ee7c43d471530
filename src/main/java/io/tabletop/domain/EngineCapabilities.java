package io.tabletop.domain;

/**
 * What an engine can do, declared by its connector. The planner reads engine rules from here, never
 * from the connector's type.
 *
 * @param maintenanceMode        the engine has a maintenance state that keeps new replicas off a server
 * @param leaderTransfer         leadership can be moved explicitly to a chosen follower
 * @param moveLeaderReplicas     a leader replica can be moved directly (false: change the leader first, as OpenMLDB)
 * @param stopServerStep         the plan ends a removal by stopping the server
 * @param unregister             a stopped server can be unregistered (Kudu 1.16+)
 * @param healthGates            a cluster health check (ksck) gates each phase
 * @param engineRebalance        the engine moves data itself in one rebalance (Couchbase); no per-replica moves
 * @param onePhasePerServer      servers are removed one after the other, each its own phase (Kudu admin docs)
 * @param maxMovesPerServer      default bound on concurrent moves touching one server
 * @param moveOverheadSeconds    fixed cost of one replica move (config changes, bootstrap)
 * @param bytesPerSecond         copy bandwidth of one move, for estimates
 * @param leaderTransferSeconds  cost of one leader transfer
 * @param engineDrain            the engine can empty a server by itself (Kudu: {@code cluster rebalance
 *                               --ignored_tservers --move_replicas_from_ignored_tservers}), offered as an
 *                               alternative strategy
 * @param engineRereplicates     the engine rebuilds the copies of a dead server by itself (Kudu, after
 *                               {@code --follower_unavailable_considered_failed_sec}); when false a run
 *                               that loses a server rebuilds its copies with its own moves
 */
public record EngineCapabilities(boolean maintenanceMode, boolean leaderTransfer, boolean moveLeaderReplicas,
                                 boolean stopServerStep, boolean unregister, boolean healthGates,
                                 boolean engineRebalance, boolean onePhasePerServer, int maxMovesPerServer,
                                 double moveOverheadSeconds, double bytesPerSecond, double leaderTransferSeconds,
                                 boolean engineDrain, boolean engineRereplicates) {
    public EngineCapabilities {
        if (maxMovesPerServer < 1) {
            throw new IllegalArgumentException("maxMovesPerServer must be >= 1");
        }
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("bytesPerSecond must be > 0");
        }
    }

    /** Kudu 1.17: explicit leader step-down, move_replica, maintenance mode, unregister, ksck gates. */
    public static EngineCapabilities kudu() {
        return new EngineCapabilities(true, true, true, true, true, true, false, true, 5, 2.3, 100e6, 0.35, true, true);
    }

    /**
     * OpenMLDB (seed 002): {@code migrate} moves followers only, so a leader is changed first with
     * {@code changeleader}; no maintenance state, no cluster health check to gate on, and the tablet
     * process is stopped by the operator once it holds nothing. Conservative speed: one
     * AddReplica/DelReplica operation chain per server at a time.
     */
    public static EngineCapabilities openmldb() {
        return new EngineCapabilities(false, true, false, true, false, false, false, true, 1, 5.0, 50e6, 1.0, false, false);
    }

    /**
     * Couchbase Server (seed 001): removal is one rebalance that ejects the nodes; the cluster picks every
     * vBucket move itself ({@code rebalanceMovesPerNode} = 4 at a time), so a plan is one engine step and
     * a prediction of where the data ends up.
     */
    public static EngineCapabilities couchbase() {
        return new EngineCapabilities(false, false, false, false, false, false, true, false, 4, 1.0, 50e6, 0.0, false, false);
    }

    public EngineCapabilities withSpeed(double moveOverheadSeconds, double bytesPerSecond, double leaderTransferSeconds) {
        return new EngineCapabilities(maintenanceMode, leaderTransfer, moveLeaderReplicas, stopServerStep, unregister,
                healthGates, engineRebalance, onePhasePerServer, maxMovesPerServer, moveOverheadSeconds,
                bytesPerSecond, leaderTransferSeconds, engineDrain, engineRereplicates);
    }

    public EngineCapabilities withEngineDrain(boolean d) {
        return new EngineCapabilities(maintenanceMode, leaderTransfer, moveLeaderReplicas, stopServerStep, unregister,
                healthGates, engineRebalance, onePhasePerServer, maxMovesPerServer, moveOverheadSeconds,
                bytesPerSecond, leaderTransferSeconds, d, engineRereplicates);
    }

    public EngineCapabilities withEngineRereplicates(boolean r) {
        return new EngineCapabilities(maintenanceMode, leaderTransfer, moveLeaderReplicas, stopServerStep, unregister,
                healthGates, engineRebalance, onePhasePerServer, maxMovesPerServer, moveOverheadSeconds,
                bytesPerSecond, leaderTransferSeconds, engineDrain, r);
    }

    public EngineCapabilities withMaxMovesPerServer(int n) {
        return new EngineCapabilities(maintenanceMode, leaderTransfer, moveLeaderReplicas, stopServerStep, unregister,
                healthGates, engineRebalance, onePhasePerServer, n, moveOverheadSeconds, bytesPerSecond,
                leaderTransferSeconds, engineDrain, engineRereplicates);
    }
}
