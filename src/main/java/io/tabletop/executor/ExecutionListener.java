package io.tabletop.executor;

import io.tabletop.domain.Step;
import io.tabletop.planner.Plan;

import java.util.Map;

/**
 * Events of a run. Called from the run's own threads (the coordinator and the step workers), never from
 * a UI thread: a UI listener must hand over to its toolkit, and should coalesce.
 */
public interface ExecutionListener {
    enum Level { INFO, WARN, ERROR }

    default void runStateChanged(RunState from, RunState to) {
    }

    /**
     * A step is about to start: the place to write its record ahead of it (write-ahead: nothing acts without
     * its record). Called by the run's coordinator, under the run's lock, before the step's RUNNING transition
     * and before any work of it is dispatched. Returns null to let it start, or why no step may start any more
     * (a record that could not be written: which file, and why); the run then starts nothing more: this step
     * and every step not started end SKIPPED with that reason, the steps in flight finish, and the run ends
     * FAILED.
     */
    default String beforeStart(Step step) {
        return null;
    }

    default void stepStateChanged(Step step, StepState from, StepState to, String message) {
    }

    /** @param fraction 0..1 */
    default void stepProgress(Step step, double fraction, String message) {
    }

    /** Progress of a long engine step's parts by name (Couchbase: each node of the rebalance), 0..1 each. */
    default void stepParts(Step step, Map<String, Double> fractions) {
    }

    default void log(Level level, String message) {
    }

    /** A change to the cluster a step makes besides its own command, with the exact command (for the audit log). */
    default void action(Step step, String what, String command) {
    }

    /**
     * The run goes on with a new plan (a server it relied on died, and what is left was planned again
     * around it). Events that follow refer to {@code plan}'s steps.
     */
    default void planReplaced(Plan plan, String why) {
    }

    /**
     * A replica move ended SUCCEEDED after {@code seconds} (the run's clock), started while at most
     * {@code concurrency} moves per server were allowed: the run page's time-per-move chart.
     */
    default void moveTimed(Step step, double seconds, int concurrency) {
    }

    /** Adaptive concurrency changed the bound on moves per server, and why (journaled). */
    default void concurrencyChanged(int from, int to, String reason) {
    }

    /**
     * A server stopped answering (its heartbeat older than {@link ExecutorOptions#deadAfter()}); from now on
     * no step of the run goes to it.
     */
    default void serverLost(io.tabletop.domain.ServerId server, String why) {
    }

    /**
     * A step waits for the engine ({@link StepState#WAITING}): why, and when it should be free, on the run's
     * clock (null: not known). Sent again when the reason or the time changes.
     */
    default void stepWaiting(Step step, String reason, java.time.Instant until) {
    }

    /**
     * Copies on servers the run found dead are still in partitions' configs ({@code copies} of them), seen at
     * a look of the run's monitor while the run replaces dead copies at once ({@link ExecutorOptions#replaceDeadCopies()}):
     * the engine may have put a new one there before it knew the server dead.
     */
    default void deadCopiesLeft(int copies) {
    }

    ExecutionListener NONE = new ExecutionListener() {
    };
}
