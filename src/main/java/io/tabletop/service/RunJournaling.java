package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.domain.Step;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.store.RunJournal;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Logger;

/**
 * A run's journaling: each step's start and end go to the journal (synced), each action to the audit log
 * with the command that ran, then every event passes on to the run's own listener.
 *
 * <p>Write-ahead, fail-stop: a step's start is journaled and audited in {@link #beforeStart}, before the step
 * starts; when that or any later write fails, the run's fault is set ({@link Runs.Run#recordFault}) and no
 * step starts any more. What still happens (the steps in flight ending) is recorded where it can be.
 */
final class RunJournaling implements ExecutionListener {
    private static final Logger LOG = Logger.getLogger(RunJournaling.class.getName());
    private final Runs runs;

    private final RunJournal journal;
    private final ClusterConnector connector;
    private final String runId;
    private final String cluster;
    private final ExecutionListener next;
    private final Runs.Run run;
    private volatile java.util.function.Consumer<io.tabletop.domain.ServerId> onServerLost = id -> {
    };

    RunJournaling(Runs runs, Runs.Run run, RunJournal journal, ClusterConnector connector, String runId, String cluster, ExecutionListener next) {
        this.runs = runs;
        this.run = run;
        this.journal = journal;
        this.connector = connector;
        this.runId = runId;
        this.cluster = cluster;
        this.next = next;
    }

    /** What to do when the run finds a server dead, after it is journaled (the run's choice to replace its copies at once). */
    void onServerLost(java.util.function.Consumer<io.tabletop.domain.ServerId> action) {
        onServerLost = action;
    }

    @Override
    public void serverLost(io.tabletop.domain.ServerId server, String why) {
        journaled(() -> journal.event("server-lost", why));
        runs.audit(run, cluster, null, "server lost: " + why, null);
        next.serverLost(server, why);
        onServerLost.accept(server);
    }

    private volatile Runnable onDeadCopies = () -> {
    };

    /** What to do when copies on dead servers are seen while the run replaces them at once. */
    void onDeadCopies(Runnable action) {
        onDeadCopies = action;
    }

    @Override
    public void deadCopiesLeft(int copies) {
        next.deadCopiesLeft(copies);
        onDeadCopies.run();
    }

    @Override
    public void stepWaiting(Step step, String reason, java.time.Instant until) {
        next.stepWaiting(step, reason, until);
    }

    @Override
    public void runStateChanged(RunState from, RunState to) {
        if (to == RunState.PAUSED || to == RunState.CANCELLING || (from == RunState.PAUSED && to == RunState.RUNNING)) {
            journaled(() -> journal.event(to.name().toLowerCase(Locale.ROOT), "run " + from + " → " + to));
            runs.audit(run, cluster, null, "run " + to.name().toLowerCase(Locale.ROOT), null);
        }
        next.runStateChanged(from, to);
    }

    /** The step's start, journaled and audited with its command before it starts; the run's fault when either fails. */
    @Override
    public String beforeStart(Step step) {
        String fault = run.recordFault();
        if (fault != null) {
            return fault;
        }
        if (!journaled(() -> journal.step(step, StepState.RUNNING.name(), ""))) {
            return run.recordFault();
        }
        if (runs.audit(run, cluster, (step.index() + 1) + " " + step.describe(), "step started", connector.command(step)) == null) {
            return run.recordFault();
        }
        return null;
    }

    @Override
    public void stepStateChanged(Step step, StepState from, StepState to, String message) {
        boolean starts = to == StepState.RUNNING && (from == StepState.PENDING || from == StepState.WAITING);
        // a start was recorded by beforeStart, ahead of it
        if (!starts && (to.isTerminal() || to == StepState.WAITING)) {
            if (!journaled(() -> journal.step(step, to.name(), message))) {
                next.log(ExecutionListener.Level.ERROR, "Step " + (step.index() + 1) + " ended " + to + ", but " + run.recordFault());
            }
            if (from == StepState.PENDING && to == StepState.SUCCEEDED) {
                runs.audit(run, cluster, (step.index() + 1) + " " + step.describe(), "step ran nothing: " + message, null);
            } else if (to != StepState.SUCCEEDED) {
                runs.audit(run, cluster, (step.index() + 1) + " " + step.describe(), "step " + to.name().toLowerCase(Locale.ROOT)
                        + (message.isEmpty() ? "" : ": " + message), null);
            }
        }
        next.stepStateChanged(step, from, to, message);
    }

    /** One journal write; false when it failed (the run's fault is set: no step starts any more). */
    private boolean journaled(Write write) {
        try {
            write.run();
            return true;
        } catch (IOException e) {
            LOG.log(java.util.logging.Level.SEVERE, "journal write failed", e);
            runs.journalFailed(run, cluster, e);
            return false;
        }
    }

    @FunctionalInterface
    private interface Write {
        void run() throws IOException;
    }

    @Override
    public void moveTimed(Step step, double seconds, int concurrency) {
        next.moveTimed(step, seconds, concurrency);
    }

    /** Every change of the adaptive bound is journaled with its reason. */
    @Override
    public void concurrencyChanged(int from, int to, String reason) {
        journaled(() -> journal.event("concurrency", from + " → " + to + " moves per server: " + reason));
        next.concurrencyChanged(from, to, reason);
    }

    @Override
    public void stepProgress(Step step, double fraction, String message) {
        next.stepProgress(step, fraction, message);
    }

    @Override
    public void stepParts(Step step, Map<String, Double> fractions) {
        next.stepParts(step, fractions);
    }

    @Override
    public void action(Step step, String what, String command) {
        if (runs.audit(run, cluster, (step.index() + 1) + " " + step.describe(), what, command) == null) {
            // write-ahead: the change is not made without its record (the step ends FAILED, and nothing more starts)
            throw new IllegalStateException("not done: " + what + ": " + run.recordFault());
        }
        next.action(step, what, command);
    }

    @Override
    public void log(ExecutionListener.Level level, String message) {
        if (level != ExecutionListener.Level.INFO) {
            journaled(() -> journal.event(level.name().toLowerCase(Locale.ROOT), message));
        }
        next.log(level, message);
    }
}
