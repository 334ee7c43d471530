package io.tabletop.domain;

/**
 * Kinds of plan steps. A <em>barrier</em> step runs alone: every step before it has finished before it
 * starts, and none after it starts before it has finished. Non-barrier steps between two barriers run
 * concurrently within the concurrency rules (the planner's StepScheduler).
 */
public enum StepType {
    ENTER_MAINTENANCE(true, "Enter maintenance"),
    TRANSFER_LEADER(false, "Transfer leader"),
    MOVE_REPLICA(false, "Move replica"),
    HEALTH_GATE(true, "Health gate"),
    STOP_SERVER(true, "Stop server"),
    UNREGISTER_SERVER(true, "Unregister server"),
    EXIT_MAINTENANCE(true, "Exit maintenance"),
    ENGINE_REBALANCE(true, "Engine rebalance"),
    /** The engine fails servers over gracefully (Couchbase): their active copies move to replicas elsewhere first. */
    FAILOVER(true, "Graceful failover");

    private final boolean barrier;
    private final String label;

    StepType(boolean barrier, String label) {
        this.barrier = barrier;
        this.label = label;
    }

    public boolean isBarrier() {
        return barrier;
    }

    public String label() {
        return label;
    }
}
