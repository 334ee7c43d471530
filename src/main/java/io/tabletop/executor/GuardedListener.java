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

    private static void failed(String event, Throwable t) {
        LOG.log(java.util.logging.Level.SEVERE, "the run's listener failed on " + event, t);
    }

    @Override
    public void runStateChanged(RunState from, RunState to) {
        try {
            inner.runStateChanged(from, to);
        } catch (Throwable t) {
            failed("run " + from + " → " + to, t);
        }
    }

    @Override
    public void stepStateChanged(Step step, StepState from, StepState to, String message) {
        try {
            inner.stepStateChanged(step, from, to, message);
        } catch (Throwable t) {
            failed("step " + (step.index() + 1) + " " + from + " → " + to, t);
        }
    }

    @Override
    public void stepProgress(Step step, double fraction, String message) {
        try {
            inner.stepProgress(step, fraction, message);
        } catch (Throwable t) {
            failed("step " + (step.index() + 1) + " progress", t);
        }
    }

    @Override
    public void stepParts(Step step, Map<String, Double> fractions) {
        try {
            inner.stepParts(step, fractions);
        } catch (Throwable t) {
            failed("step " + (step.index() + 1) + " parts", t);
        }
    }

    @Override
    public void log(Level level, String message) {
        try {
            inner.log(level, message);
        } catch (Throwable t) {
            failed("log line '" + message + "'", t);
        }
    }

    @Override
    public void action(Step step, String what, String command) {
        try {
            inner.action(step, what, command);
        } catch (Throwable t) {
            failed("step " + (step.index() + 1) + " action", t);
        }
    }

    @Override
    public void planReplaced(Plan plan, String why) {
        try {
            inner.planReplaced(plan, why);
        } catch (Throwable t) {
            failed("plan replaced", t);
        }
    }

    @Override
    public void moveTimed(Step step, double seconds, int concurrency) {
        try {
            inner.moveTimed(step, seconds, concurrency);
        } catch (Throwable t) {
            failed("step " + (step.index() + 1) + " timed", t);
        }
    }

    @Override
    public void concurrencyChanged(int from, int to, String reason) {
        try {
            inner.concurrencyChanged(from, to, reason);
        } catch (Throwable t) {
            failed("concurrency " + from + " → " + to, t);
        }
    }

    @Override
    public void serverLost(ServerId server, String why) {
        try {
            inner.serverLost(server, why);
        } catch (Throwable t) {
            failed("server lost " + server, t);
        }
    }

    @Override
    public void stepWaiting(Step step, String reason, Instant until) {
        try {
            inner.stepWaiting(step, reason, until);
        } catch (Throwable t) {
            failed("step " + (step.index() + 1) + " waiting", t);
        }
    }

    @Override
    public void deadCopiesLeft(int copies) {
        try {
            inner.deadCopiesLeft(copies);
        } catch (Throwable t) {
            failed("dead copies left", t);
        }
    }
}
