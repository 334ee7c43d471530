package io.tabletop.executor;

/**
 * Progress of a run at one moment.
 *
 * @param fraction       0..1, weighted by each step's estimated time
 * @param elapsedSeconds since the run started
 * @param waiting        steps parked in {@link StepState#WAITING} (the engine refuses them for now)
 * @param waitSeconds    how long the longest of those waits still lasts, with its step's own time, as far as
 *                       known (0 when none)
 */
public record RunProgress(double fraction, int finishedSteps, int totalSteps, int inFlight,
                          long bytesDone, long bytesTotal, double elapsedSeconds, int waiting, double waitSeconds) {
    public RunProgress(double fraction, int finishedSteps, int totalSteps, int inFlight, long bytesDone, long bytesTotal,
                       double elapsedSeconds) {
        this(fraction, finishedSteps, totalSteps, inFlight, bytesDone, bytesTotal, elapsedSeconds, 0, 0);
    }

    /**
     * Seconds left at the rate seen so far, and never less than the longest wait for the engine still ahead
     * (a step waiting 4 minutes for Kudu to replace a dead copy ends no sooner); negative when not yet known.
     */
    public double etaSeconds() {
        if (fraction <= 0.01 || elapsedSeconds <= 0) {
            return waitSeconds > 0 ? waitSeconds : -1;
        }
        return Math.max(elapsedSeconds * (1 - fraction) / fraction, waitSeconds);
    }
}
