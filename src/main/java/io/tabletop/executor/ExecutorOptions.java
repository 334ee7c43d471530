package io.tabletop.executor;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;

/**
 * How a run behaves.
 *
 * @param maxMovesPerServer concurrent steps touching one server (source or destination)
 * @param maxAttempts       tries per step for transient failures (1 = no retry)
 * @param retryBackoff      wait before the first retry; doubles each time
 * @param stallAfter        a step whose progress has not moved for this long is flagged (once, until it moves)
 * @param healthEvery       how often a running phase looks for partitions without a live leader or
 *                          without a live majority (found twice in a row: the run pauses)
 * @param monitorPeriod     how often (real time) the run's monitor wakes to make those checks
 * @param clock             time for the stall and health checks (tests drive their own)
 */
public record ExecutorOptions(int maxMovesPerServer, int maxAttempts, Duration retryBackoff, Duration stallAfter,
                              Duration healthEvery, Duration monitorPeriod, InstantSource clock) {
    public ExecutorOptions {
        if (maxMovesPerServer < 1) {
            throw new IllegalArgumentException("maxMovesPerServer must be >= 1");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1");
        }
        Objects.requireNonNull(retryBackoff, "retryBackoff");
        Objects.requireNonNull(stallAfter, "stallAfter");
        Objects.requireNonNull(healthEvery, "healthEvery");
        Objects.requireNonNull(monitorPeriod, "monitorPeriod");
        Objects.requireNonNull(clock, "clock");
    }

    /** Stalls flagged after 10 minutes, health looked at every 30 s, on the system clock. */
    public ExecutorOptions(int maxMovesPerServer, int maxAttempts, Duration retryBackoff) {
        this(maxMovesPerServer, maxAttempts, retryBackoff, Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofSeconds(1),
                InstantSource.system());
    }

    public static ExecutorOptions defaults(int maxMovesPerServer) {
        return new ExecutorOptions(maxMovesPerServer, 3, Duration.ofSeconds(2));
    }

    public ExecutorOptions withBackoff(Duration d) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, d, stallAfter, healthEvery, monitorPeriod, clock);
    }

    public ExecutorOptions withMonitor(Duration stallAfter, Duration healthEvery, Duration monitorPeriod, InstantSource clock) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, retryBackoff, stallAfter, healthEvery, monitorPeriod, clock);
    }
}
