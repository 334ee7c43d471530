package io.tabletop.connector.sandbox;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Moves a {@link SimClock} on a named daemon thread: either at real speed times a scale, or as fast as
 * events come (the next event at once), for tests and benchmarks. {@link #close()} stops the thread.
 */
public final class ClockDriver implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ClockDriver.class.getName());
    private static final long TICK_MILLIS = 40;

    private final Thread thread;
    private volatile boolean running = true;

    private ClockDriver(SimClock clock, double scale) {
        thread = new Thread(() -> loop(clock, scale), "tabletop-sandbox-clock");
        thread.setDaemon(true);
        thread.start();
    }

    /** Virtual time runs {@code scale} times faster than wall time. */
    public static ClockDriver realTime(SimClock clock, double scale) {
        if (!(scale > 0)) {
            throw new IllegalArgumentException("scale must be > 0");
        }
        return new ClockDriver(clock, scale);
    }

    /** Virtual time jumps straight to the next event. */
    public static ClockDriver instant(SimClock clock) {
        return new ClockDriver(clock, 0);
    }

    private void loop(SimClock clock, double scale) {
        long last = System.nanoTime();
        while (running) {
            try {
                if (scale == 0) {
                    if (!clock.runNext()) {
                        clock.awaitEvent(TICK_MILLIS);
                    }
                } else {
                    Thread.sleep(TICK_MILLIS); // pacing real time, not waiting for a condition
                    long nowNanos = System.nanoTime();
                    clock.advanceBy(Math.round((nowNanos - last) / 1e6 * scale));
                    last = nowNanos;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "sandbox event failed", e);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
