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
 */
final class RunJournaling implements ExecutionListener {
    private static final Logger LOG = Logger.getLogger(RunJournaling.class.getName());
    private final Runs runs;

    private final RunJournal journal;
    private final ClusterConnector connector;
    private final String runId;
    private final String cluster;
    private final ExecutionListener next;
    private volatile java.util.function.Consumer<io.tabletop.domain.ServerId> onServerLost = id -> {
    };

    RunJournaling(Runs runs, RunJournal journal, ClusterConnector connector, String runId, String cluster, ExecutionListener next) {
        this.runs = runs;
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
        try {
            journal.event("server-lost", why);
        } catch (IOException e) {
            LOG.log(java.util.logging.Level.SEVERE, "journal write failed", e);
        }
        runs.audit(cluster, runId, null, "server lost: " + why, null);
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
            try {
                journal.event(to.name().toLowerCase(Locale.ROOT), "run " + from + " → " + to);
            } catch (IOException e) {
                LOG.log(java.util.logging.Level.SEVERE, "journal write failed", e);
            }
            runs.audit(cluster, runId, null, "run " + to.name().toLowerCase(Locale.ROOT), null);
        }
        next.runStateChanged(from, to);
    }

    @Override
    public void stepStateChanged(Step step, StepState from, StepState to, String message) {
        boolean starts = to == StepState.RUNNING && (from == StepState.PENDING || from == StepState.WAITING);
        if (starts || to.isTerminal() || to == StepState.WAITING) {
            try {
                journal.step(step, to.name(), message);
            } catch (IOException e) {
                LOG.log(java.util.logging.Level.SEVERE, "journal write failed", e);
                next.log(ExecutionListener.Level.ERROR, "cannot write the run's journal (" + e.getMessage() + "): a resume may repeat a check");
            }
            if (starts) {
                runs.audit(cluster, runId, (step.index() + 1) + " " + step.describe(), "step started", connector.command(step));
            } else if (from == StepState.PENDING && to == StepState.SUCCEEDED) {
                runs.audit(cluster, runId, (step.index() + 1) + " " + step.describe(), "step ran nothing: " + message, null);
            } else if (to != StepState.SUCCEEDED) {
                runs.audit(cluster, runId, (step.index() + 1) + " " + step.describe(), "step " + to.name().toLowerCase(Locale.ROOT)
                        + (message.isEmpty() ? "" : ": " + message), null);
            }
        }
        next.stepStateChanged(step, from, to, message);
    }

    @Override
    public void moveTimed(Step step, double seconds, int concurrency) {
        next.moveTimed(step, seconds, concurrency);
    }

    /** Every change of the adaptive bound is journaled with its reason. */
    @Override
    public void concurrencyChanged(int from, int to, String reason) {
        try {
            journal.event("concurrency", from + " → " + to + " moves per server: " + reason);
        } catch (IOException e) {
            LOG.log(java.util.logging.Level.SEVERE, "journal write failed", e);
        }
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
        runs.audit(cluster, runId, (step.index() + 1) + " " + step.describe(), what, command);
        next.action(step, what, command);
    }

    @Override
    public void log(ExecutionListener.Level level, String message) {
        if (level != ExecutionListener.Level.INFO) {
            try {
                journal.event(level.name().toLowerCase(Locale.ROOT), message);
            } catch (IOException e) {
                LOG.log(java.util.logging.Level.SEVERE, "journal write failed", e);
            }
        }
        next.log(level, message);
    }
}
