package io.tabletop.executor;

/**
 * The life of a whole run. PAUSED: no new step starts; steps in flight finish. REPLANNING: this attempt
 * has ended because a server it relied on died or the cluster changed under it; the run goes on with a
 * new plan of what is left ({@link RunResult#replan()} says why).
 */
public enum RunState {
    READY, RUNNING, PAUSED, CANCELLING, SUCCEEDED, FAILED, CANCELLED, REPLANNING;

    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED || this == REPLANNING;
    }
}
