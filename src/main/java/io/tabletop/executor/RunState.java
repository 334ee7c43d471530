package io.tabletop.executor;

/** The life of a whole run. PAUSED: no new step starts; steps in flight finish. */
public enum RunState {
    READY, RUNNING, PAUSED, CANCELLING, SUCCEEDED, FAILED, CANCELLED;

    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}
