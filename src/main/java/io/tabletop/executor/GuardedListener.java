package io.tabletop.executor;

import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.planner.Plan;

import java.time.Instant;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The run's listener as the run's own bookkeeping calls it: a callback that throws is logged with its stack
 * trace and goes no further, so a listener's bug never leaves a step half-ended or the coordinator dead.
 * Where a listener's failure must end a step (its start, its progress), the run calls the listener itself.
 * Thread-safe as the listener it wraps.
 */
final class GuardedListener implements ExecutionListener {
    private static final Logger LOG = Logger.getLogger(GuardedListener.class.getName());
    private final ExecutionListener inner;

    GuardedListener(ExecutionListener inner) {
        this.inner = inner;
    }

    /** Runs one call of the listener; what it throws is logged with {@code event}'s words and goes no further. */
    private static void guard(Runnable call, java.util.function.Supplier<String> event) {
        try {
            call.run();
        } catch (Throwable t) {
            failed(event.get(), t);
        }
    }

    private static void failed(String event, Throwable t) {
        LOG.log(java.util.logging.Level.SEVERE, "the run's listener failed on " + event, t);
    }

    @Override
    public void runStateChanged(RunState from, RunState to) {
        guard(() -> inner.runStateChanged(from, to), () -> "run " + from + " → " + to);
    }

    /** Not guarded: a listener that throws here refuses the start, since the step's record is not known to be written. */
    @Override
    public String beforeStart(Step step) {
        try {
            return inner.beforeStart(step);
        } catch (Throwable t) {
            failed("step " + (step.index() + 1) + " before its start", t);
            return "the run's listener failed before step " + (step.index() + 1) + " started: " + Failures.oneLine(t);
        }
    }

    @Override
    public void stepStateChanged(Step step, StepState from, StepState to, String message) {
        guard(() -> inner.stepStateChanged(step, from, to, message), () -> "step " + (step.index() + 1) + " " + from + " → " + to);
    }

    @Override
    public void stepProgress(Step step, double fraction, String message) {
        guard(() -> inner.stepProgress(step, fraction, message), () -> "step " + (step.index() + 1) + " progress");
    }

    @Override
    public void stepParts(Step step, Map<String, Double> fractions) {
        guard(() -> inner.stepParts(step, fractions), () -> "step " + (step.index() + 1) + " parts");
    }

    @Override
    public void log(Level level, String message) {
        guard(() -> inner.log(level, message), () -> "log line '" + message + "'");
    }

    @Override
    public void action(Step step, String what, String command) {
        guard(() -> inner.action(step, what, command), () -> "step " + (step.index() + 1) + " action");
    }

    @Override
    public void planReplaced(Plan plan, String why) {
        guard(() -> inner.planReplaced(plan, why), () -> "plan replaced");
    }

    @Override
    public void moveTimed(Step step, double seconds, int concurrency) {
        guard(() -> inner.moveTimed(step, seconds, concurrency), () -> "step " + (step.index() + 1) + " timed");
    }

    @Override
    public void concurrencyChanged(int from, int to, String reason) {
        guard(() -> inner.concurrencyChanged(from, to, reason), () -> "concurrency " + from + " → " + to);
    }

    @Override
    public void serverLost(ServerId server, String why) {
        guard(() -> inner.serverLost(server, why), () -> "server lost " + server);
    }

    @Override
    public void stepWaiting(Step step, String reason, Instant until) {
        guard(() -> inner.stepWaiting(step, reason, until), () -> "step " + (step.index() + 1) + " waiting");
    }

    @Override
    public void deadCopiesLeft(int copies) {
        guard(() -> inner.deadCopiesLeft(copies), () -> "dead copies left");
    }
}
