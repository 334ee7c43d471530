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
 *      ├──► SKIPPED        (not run: an earlier step failed, so no barrier after it may run; or nothing
 *      │                    was left for it to do: the engine already moved the replica)
 *      ├──► SUCCEEDED      (a run's first health gate, answered by the pre-check's verdict of seconds
 *      │                    before: nothing ran, and the journal and audit say so)
 *      ├──► WAITING ──► RUNNING   (parked: the engine refuses it for now, for a reason time resolves, as Kudu
 *      │       ▲                   refuses to move a replica of a tablet with a copy on a dead tserver until it
 *      │       └── RUNNING         has replaced that copy; it holds no slot meanwhile, and other steps go on;
 *      │                           a waiting health gate may end SUCCEEDED when the run's own look answers it)
 *      └──► REPLANNED      (from any state not ended: not run in this attempt because a server it needs
 *                           died or the cluster changed under it; the next attempt plans what is left)
 * </pre>
 * A step whose attempt fails but whose effect the cluster already shows ({@link StepTruth}: the answer
 * was lost, the engine finished it anyway) ends SUCCEEDED, with a message that says so: it is done, and
 * counts as done. Any other transition is a bug and throws {@link IllegalStateException} naming both states.
 */
public enum StepState {
    PENDING, RUNNING, RETRY_WAIT, WAITING, SUCCEEDED, FAILED, CANCELLED, SKIPPED, REPLANNED;

    private static final Map<StepState, Set<StepState>> NEXT = Map.of(
            PENDING, EnumSet.of(RUNNING, CANCELLED, SKIPPED, SUCCEEDED, WAITING, REPLANNED),
            RUNNING, EnumSet.of(SUCCEEDED, FAILED, RETRY_WAIT, CANCELLED, WAITING, REPLANNED),
            RETRY_WAIT, EnumSet.of(RUNNING, FAILED, CANCELLED, WAITING, REPLANNED),
            WAITING, EnumSet.of(RUNNING, CANCELLED, SKIPPED, REPLANNED, SUCCEEDED),
            SUCCEEDED, EnumSet.noneOf(StepState.class),
            FAILED, EnumSet.noneOf(StepState.class),
            CANCELLED, EnumSet.noneOf(StepState.class),
            SKIPPED, EnumSet.noneOf(StepState.class),
            REPLANNED, EnumSet.noneOf(StepState.class));

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
