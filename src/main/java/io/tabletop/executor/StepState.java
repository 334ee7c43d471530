package io.tabletop.executor;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The life of one step. Legal transitions:
 * <pre>
 *   PENDING ──► RUNNING ──► SUCCEEDED
 *      │           │ ▲
 *      │           ▼ │
 *      │       RETRY_WAIT ──► FAILED ◄── RUNNING
 *      │           │
 *      ├──► CANCELLED ◄┴── RUNNING  (a long engine step stopped on cancel)
 *      ├──► SKIPPED        (not run: an earlier step failed, so no barrier after it may run)
 *      └──► SUCCEEDED      (a run's first health gate, answered by the pre-check's verdict of seconds
 *                           before: nothing ran, and the journal and audit say so)
 * </pre>
 * A step whose attempt fails but whose effect the cluster already shows ({@link StepTruth}: the answer
 * was lost, the engine finished it anyway) ends SUCCEEDED, with a message that says so: it is done, and
 * counts as done. Any other transition is a bug and throws {@link IllegalStateException} naming both states.
 */
public enum StepState {
    PENDING, RUNNING, RETRY_WAIT, SUCCEEDED, FAILED, CANCELLED, SKIPPED;

    private static final Map<StepState, Set<StepState>> NEXT = Map.of(
            PENDING, EnumSet.of(RUNNING, CANCELLED, SKIPPED, SUCCEEDED),
            RUNNING, EnumSet.of(SUCCEEDED, FAILED, RETRY_WAIT, CANCELLED),
            RETRY_WAIT, EnumSet.of(RUNNING, FAILED, CANCELLED),
            SUCCEEDED, EnumSet.noneOf(StepState.class),
            FAILED, EnumSet.noneOf(StepState.class),
            CANCELLED, EnumSet.noneOf(StepState.class),
            SKIPPED, EnumSet.noneOf(StepState.class));

    public boolean canGoTo(StepState next) {
        return NEXT.get(this).contains(next);
    }

    /** Checks a transition; throws naming both states when it is illegal. */
    public StepState to(StepState next) {
        if (!canGoTo(next)) {
            throw new IllegalStateException("illegal step transition " + this + " → " + next);
        }
        return next;
    }

    public boolean isTerminal() {
        return NEXT.get(this).isEmpty();
    }
}
