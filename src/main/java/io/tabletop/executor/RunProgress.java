package io.tabletop.executor;

/**
 * Progress of a run at one moment.
 *
 * @param fraction       0..1, weighted by each step's estimated time
 * @param elapsedSeconds since the run started
 */
public record RunProgress(double fraction, int finishedSteps, int totalSteps, int inFlight,
                          long bytesDone, long bytesTotal, double elapsedSeconds) {
    /** Seconds left at the rate seen so far; negative when not yet known. */
    public double etaSeconds() {
        if (fraction <= 0.01 || elapsedSeconds <= 0) {
            return -1;
        }
        return elapsedSeconds * (1 - fraction) / fraction;
    }
}
