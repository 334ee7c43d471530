package io.tabletop.executor;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Step;

import java.time.Duration;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One step's attempts: run it through the connector, and after a failure ask the cluster whether it is
 * done anyway (then it SUCCEEDED), retry a transient failure with doubling backoff while attempts last and
 * no cancel came, or end it. Any other throwable on the way (a {@link RuntimeException} or an {@link Error} from the
 * connector, a callback or the look at the cluster) ends it FAILED with one line naming the cause. The run's bookkeeping (states, the lock, the scheduler) stays with the run;
 * it is reached through {@link Host}. One instance per step; runs on the step's worker thread.
 */
final class StepAttempts {
    private static final Logger LOG = Logger.getLogger(StepAttempts.class.getName());

    /**
     * How the attempts ended: SUCCEEDED, FAILED or CANCELLED, or WAITING (the engine refused it for now:
     * {@link ConnectorException.Kind#NOT_YET}); why, and the kind of the last failure. {@code unexpected}: it
     * ended on a throwable that is not the connector's word (nothing is known of what the engine did), so the
     * run reads nothing more into it: it stays FAILED.
     */
    record Outcome(StepState end, String message, ConnectorException.Kind failure, boolean unexpected) {
    }

    /** What the attempts need of the run. */
    interface Host {
        void progress(double fraction, String message);

        /** Whether the live cluster already shows the step done. */
        boolean alreadyDone();

        boolean cancelRequested();

        /** The step's state changes (RETRY_WAIT, then RUNNING again). */
        void state(StepState to, String message);

        /** Waits out a backoff; true when a cancel came meanwhile. */
        boolean cancelledWithin(Duration wait) throws InterruptedException;
    }

    private final Step step;
    private final ClusterConnector connector;
    private final ExecutorOptions options;
    private final ExecutionListener listener;
    private final Host host;

    StepAttempts(Step step, ClusterConnector connector, ExecutorOptions options, ExecutionListener listener, Host host) {
        this.step = step;
        this.connector = connector;
        this.options = options;
        this.listener = listener;
        this.host = host;
    }

    Outcome run() {
        StepState end = StepState.FAILED;
        String message = "";
        ConnectorException.Kind kind = null;
        boolean unexpected = false;
        try {
            Duration backoff = options.retryBackoff();
            for (int attempt = 1; ; attempt++) {
                try {
                    connector.execute(step, new ClusterConnector.StepProgress() {
                        @Override
                        public void update(double fraction, String message) {
                            host.progress(fraction, message);
                        }

                        @Override
                        public void log(String line) {
                            listener.log(ExecutionListener.Level.INFO, "Step " + (step.index() + 1) + ": " + line);
                        }

                        @Override
                        public void action(String what, String command) {
                            listener.action(step, what, command);
                            listener.log(ExecutionListener.Level.WARN, "Step " + (step.index() + 1) + ": " + what);
                        }

                        @Override
                        public void parts(Map<String, Double> fractions) {
                            listener.stepParts(step, fractions);
                        }

                        @Override
                        public boolean cancelRequested() {
                            return host.cancelRequested();
                        }
                    });
                    end = StepState.SUCCEEDED;
                    message = attempt > 1 ? "succeeded on attempt " + attempt : "";
                    break;
                } catch (ConnectorException e) {
                    LOG.log(Level.INFO, "step " + step.index() + " attempt " + attempt + " failed", e);
                    if (e.kind() == ConnectorException.Kind.STOPPED) {
                        end = StepState.CANCELLED;
                        message = e.reason();
                        kind = e.kind();
                        break;
                    }
                    if (host.alreadyDone()) {
                        end = StepState.SUCCEEDED;
                        message = "already done in the cluster after: " + e.reason();
                        break;
                    }
                    kind = e.kind();
                    if (kind == ConnectorException.Kind.NOT_YET) {
                        end = StepState.WAITING; // the run parks it until the cause has gone
                        message = e.reason();
                        break;
                    }
                    boolean retry = attempt < options.maxAttempts() && connector.isRetryable(step, e) && !host.cancelRequested();
                    if (!retry) {
                        message = e.getMessage() + (attempt > 1 ? " (after " + attempt + " attempts)" : "");
                        break;
                    }
                    listener.log(ExecutionListener.Level.WARN, "Step " + (step.index() + 1) + " (" + step.describe() + ") attempt "
                            + attempt + " failed: " + e.reason() + "; retrying in " + backoff.toMillis() + " ms");
                    host.state(StepState.RETRY_WAIT, e.reason());
                    if (!backoff.isZero() && host.cancelledWithin(backoff)) {
                        end = StepState.CANCELLED;
                        message = "cancelled while waiting to retry";
                        break;
                    }
                    backoff = backoff.multipliedBy(2);
                    host.state(StepState.RUNNING, "attempt " + (attempt + 1));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            message = "interrupted";
        } catch (Throwable e) {
            // anything else on the step's path (the connector, a callback, the check of the cluster): the step
            // ends FAILED with one line naming the cause; the log keeps the stack trace
            LOG.log(Level.SEVERE, "step " + step.index() + " failed unexpectedly", e);
            end = StepState.FAILED;
            message = Failures.unexpected(e);
            kind = null;
            unexpected = true;
        }
        return new Outcome(end, message, kind, unexpected);
    }
}
