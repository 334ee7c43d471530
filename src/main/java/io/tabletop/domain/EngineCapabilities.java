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
 * @param failoverFirst          the engine can fail servers over gracefully before its rebalance ejects them
 *                               (Couchbase), offered as an alternative strategy
 * @param moveSingleReplica      where a leader replica cannot move, the only replica of a partition still can,
 *                               through a temporary second one (OpenMLDB: AddReplicaNS, ChangeLeader,
 *                               RecoverTable, DelReplicaNS), with a short unavailability
 * @param copyFromDeadServer     a copy on a dead server can be moved or rebuilt by the plan's own steps (false:
 *                               OpenMLDB refuses Migrate, RecoverTable and DelReplicaNS from an offline
 *                               tablet, with 318 and 303; src/docs/openmldb.md)
 * @param leaderBalanceDefault   whether a scale-out balances leaders unless told otherwise (false on OpenMLDB:
 *                               each voluntary leader change is a window in which writes can be lost)
 */
public record EngineCapabilities(boolean maintenanceMode, boolean leaderTransfer, boolean moveLeaderReplicas,
                                 boolean stopServerStep, boolean unregister, boolean healthGates,
                                 boolean engineRebalance, boolean onePhasePerServer, int maxMovesPerServer,
                                 double moveOverheadSeconds, double bytesPerSecond, double leaderTransferSeconds,
                                 boolean engineDrain, boolean engineRereplicates, boolean failoverFirst, boolean moveSingleReplica,
                                 boolean copyFromDeadServer, boolean leaderBalanceDefault) {
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
        return builder().maintenanceMode(true).leaderTransfer(true).moveLeaderReplicas(true).stopServerStep(true)
                .unregister(true).healthGates(true).onePhasePerServer(true).maxMovesPerServer(5)
                .speed(2.3, 100e6, 0.35).engineDrain(true).engineRereplicates(true).build();
    }

    /**
     * OpenMLDB (seed 002): {@code migrate} moves followers only, so a leader is changed first with
     * {@code changeleader}; no maintenance state, no cluster health check to gate on, and the tablet
     * process is stopped by the operator once it holds nothing. Conservative speed: one
     * AddReplica/DelReplica operation chain per server at a time.
     */
    public static EngineCapabilities openmldb() {
        return builder().leaderTransfer(true).stopServerStep(true).onePhasePerServer(true).maxMovesPerServer(1)
                .speed(5.0, 50e6, 1.0).moveSingleReplica(true).copyFromDeadServer(false).leaderBalanceDefault(false).build();
    }

    /**
     * Couchbase Server (seed 001): removal is one rebalance that ejects the nodes; the cluster picks every
     * vBucket move itself ({@code rebalanceMovesPerNode} = 4 at a time), so a plan is one engine step and
     * a prediction of where the data ends up.
     */
    public static EngineCapabilities couchbase() {
        return builder().engineRebalance(true).maxMovesPerServer(4).speed(1.0, 50e6, 0.0).failoverFirst(true).build();
    }

    /** Every rule off, one move per server at a time, 50 MB/s: name what the engine can do. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these capabilities, to change a few. */
    public Builder toBuilder() {
        return new Builder().maintenanceMode(maintenanceMode).leaderTransfer(leaderTransfer).moveLeaderReplicas(moveLeaderReplicas)
                .stopServerStep(stopServerStep).unregister(unregister).healthGates(healthGates).engineRebalance(engineRebalance)
                .onePhasePerServer(onePhasePerServer).maxMovesPerServer(maxMovesPerServer)
                .speed(moveOverheadSeconds, bytesPerSecond, leaderTransferSeconds).engineDrain(engineDrain)
                .engineRereplicates(engineRereplicates).failoverFirst(failoverFirst).moveSingleReplica(moveSingleReplica)
                .copyFromDeadServer(copyFromDeadServer).leaderBalanceDefault(leaderBalanceDefault);
    }

    public EngineCapabilities withSpeed(double moveOverheadSeconds, double bytesPerSecond, double leaderTransferSeconds) {
        return toBuilder().speed(moveOverheadSeconds, bytesPerSecond, leaderTransferSeconds).build();
    }

    public EngineCapabilities withEngineDrain(boolean d) {
        return toBuilder().engineDrain(d).build();
    }

    public EngineCapabilities withEngineRereplicates(boolean r) {
        return toBuilder().engineRereplicates(r).build();
    }

    public EngineCapabilities withMaxMovesPerServer(int n) {
        return toBuilder().maxMovesPerServer(n).build();
    }

    /** Names each capability as it is set; the parameters above say what each means. Not thread-safe. */
    public static final class Builder {
        private boolean maintenanceMode;
        private boolean leaderTransfer;
        private boolean moveLeaderReplicas;
        private boolean stopServerStep;
        private boolean unregister;
        private boolean healthGates;
        private boolean engineRebalance;
        private boolean onePhasePerServer;
        private int maxMovesPerServer = 1;
        private double moveOverheadSeconds = 1.0;
        private double bytesPerSecond = 50e6;
        private double leaderTransferSeconds = 1.0;
        private boolean engineDrain;
        private boolean engineRereplicates;
        private boolean failoverFirst;
        private boolean moveSingleReplica;
        private boolean copyFromDeadServer = true;
        private boolean leaderBalanceDefault = true;

        private Builder() {
        }

        public Builder maintenanceMode(boolean v) {
            maintenanceMode = v;
            return this;
        }

        public Builder leaderTransfer(boolean v) {
            leaderTransfer = v;
            return this;
        }

        public Builder moveLeaderReplicas(boolean v) {
            moveLeaderReplicas = v;
            return this;
        }

        public Builder stopServerStep(boolean v) {
            stopServerStep = v;
            return this;
        }

        public Builder unregister(boolean v) {
            unregister = v;
            return this;
        }

        public Builder healthGates(boolean v) {
            healthGates = v;
            return this;
        }

        public Builder engineRebalance(boolean v) {
            engineRebalance = v;
            return this;
        }

        public Builder onePhasePerServer(boolean v) {
            onePhasePerServer = v;
            return this;
        }

        public Builder maxMovesPerServer(int v) {
            maxMovesPerServer = v;
            return this;
        }

        /** Fixed seconds per move, copy bandwidth in bytes per second, seconds per leader transfer. */
        public Builder speed(double moveOverhead, double bytesPerSec, double leaderTransfer) {
            moveOverheadSeconds = moveOverhead;
            bytesPerSecond = bytesPerSec;
            leaderTransferSeconds = leaderTransfer;
            return this;
        }

        public Builder engineDrain(boolean v) {
            engineDrain = v;
            return this;
        }

        public Builder engineRereplicates(boolean v) {
            engineRereplicates = v;
            return this;
        }

        public Builder failoverFirst(boolean v) {
            failoverFirst = v;
            return this;
        }

        public Builder moveSingleReplica(boolean v) {
            moveSingleReplica = v;
            return this;
        }

        public Builder copyFromDeadServer(boolean v) {
            copyFromDeadServer = v;
            return this;
        }

        public Builder leaderBalanceDefault(boolean v) {
            leaderBalanceDefault = v;
            return this;
        }

        public EngineCapabilities build() {
            return new EngineCapabilities(maintenanceMode, leaderTransfer, moveLeaderReplicas, stopServerStep, unregister,
                    healthGates, engineRebalance, onePhasePerServer, maxMovesPerServer, moveOverheadSeconds, bytesPerSecond,
                    leaderTransferSeconds, engineDrain, engineRereplicates, failoverFirst, moveSingleReplica, copyFromDeadServer,
                    leaderBalanceDefault);
        }
    }
}
