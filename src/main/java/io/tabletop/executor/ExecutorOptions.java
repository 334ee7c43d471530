package io.tabletop.executor;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;

/**
 * How a run behaves.
 *
 * @param maxMovesPerServer concurrent steps touching one server (source or destination); with a ceiling, where
 *                          the adaptive mode starts
 * @param maxAttempts       tries per step for transient failures (1 = no retry)
 * @param retryBackoff      wait before the first retry; doubles each time
 * @param stallAfter        a step whose progress has not moved for this long is flagged (once, until it moves)
 * @param healthEvery       how often a running phase looks for partitions without a live leader or
 *                          without a live majority (found twice in a row: the run pauses)
 * @param monitorPeriod     how often (real time) the run's monitor wakes to make those checks
 * @param clock             time for the stall and health checks and for timing moves (tests drive their own)
 * @param ceiling           0: a fixed {@code maxMovesPerServer}; otherwise adaptive concurrency
 *                          ({@link AdaptiveConcurrency}) between 1 and this ceiling
 * @param prelude           what happened before the run (its launch, the pre-check's reads), or null
 * @param deadAfter         a server whose last heartbeat is older than this is dead for the run: no step goes
 *                          to it any more, and steps that would are planned again around it (default 10 s)
 * @param replaceDeadCopies when a server dies, drop its copies from their partitions' configs at once, so that
 *                          an engine that re-replicates by itself (Kudu) starts now rather than after its own
 *                          timeout (the operator's choice; audited)
 */
public record ExecutorOptions(int maxMovesPerServer, int maxAttempts, Duration retryBackoff, Duration stallAfter,
                              Duration healthEvery, Duration monitorPeriod, InstantSource clock, int ceiling,
                              Prelude prelude, Duration deadAfter, boolean replaceDeadCopies) {
    /** How long a server may stay silent before a run counts it dead. */
    public static final Duration DEAD_AFTER = Duration.ofSeconds(10);

    public ExecutorOptions(int maxMovesPerServer, int maxAttempts, Duration retryBackoff, Duration stallAfter,
                           Duration healthEvery, Duration monitorPeriod, InstantSource clock, int ceiling, Prelude prelude) {
        this(maxMovesPerServer, maxAttempts, retryBackoff, stallAfter, healthEvery, monitorPeriod, clock, ceiling, prelude, DEAD_AFTER, false);
    }

    public ExecutorOptions {
        if (maxMovesPerServer < 1) {
            throw new IllegalArgumentException("maxMovesPerServer must be >= 1");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1");
        }
        if (ceiling != 0 && ceiling < maxMovesPerServer) {
            throw new IllegalArgumentException("the ceiling (" + ceiling + ") is below the starting concurrency (" + maxMovesPerServer + ")");
        }
        Objects.requireNonNull(retryBackoff, "retryBackoff");
        Objects.requireNonNull(stallAfter, "stallAfter");
        Objects.requireNonNull(healthEvery, "healthEvery");
        Objects.requireNonNull(monitorPeriod, "monitorPeriod");
        Objects.requireNonNull(clock, "clock");
        deadAfter = deadAfter == null ? DEAD_AFTER : deadAfter;
    }

    /** Stalls flagged after 10 minutes, health looked at every 30 s, on the system clock. */
    public ExecutorOptions(int maxMovesPerServer, int maxAttempts, Duration retryBackoff) {
        this(maxMovesPerServer, maxAttempts, retryBackoff, Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofSeconds(1),
                InstantSource.system(), 0, null);
    }

    public static ExecutorOptions defaults(int maxMovesPerServer) {
        return new ExecutorOptions(maxMovesPerServer, 3, Duration.ofSeconds(2));
    }

    /** Whether concurrency follows the cluster (a ceiling was set). */
    public boolean adaptive() {
        return ceiling > 0;
    }

    public ExecutorOptions withBackoff(Duration d) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, d, stallAfter, healthEvery, monitorPeriod, clock, ceiling, prelude, deadAfter, replaceDeadCopies);
    }

    public ExecutorOptions withMonitor(Duration stallAfter, Duration healthEvery, Duration monitorPeriod, InstantSource clock) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, retryBackoff, stallAfter, healthEvery, monitorPeriod, clock, ceiling, prelude, deadAfter, replaceDeadCopies);
    }

    /** Times steps (and looks for stalls and at health) on {@code clock}: a simulated cluster's own. */
    public ExecutorOptions withClock(InstantSource clock) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, retryBackoff, stallAfter, healthEvery, monitorPeriod, clock, ceiling, prelude, deadAfter, replaceDeadCopies);
    }

    /** Adaptive concurrency: starts at {@code maxMovesPerServer}, never above {@code ceiling}. */
    public ExecutorOptions withCeiling(int ceiling) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, retryBackoff, stallAfter, healthEvery, monitorPeriod, clock, ceiling, prelude, deadAfter, replaceDeadCopies);
    }

    public ExecutorOptions withPrelude(Prelude p) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, retryBackoff, stallAfter, healthEvery, monitorPeriod, clock, ceiling, p, deadAfter, replaceDeadCopies);
    }

    /** A server silent for {@code d} is dead for the run. */
    public ExecutorOptions withDeadAfter(Duration d) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, retryBackoff, stallAfter, healthEvery, monitorPeriod, clock, ceiling, prelude, d, replaceDeadCopies);
    }

    /** When a server dies, its copies are dropped at once so that the engine rebuilds them now ({@link #replaceDeadCopies()}). */
    public ExecutorOptions withReplaceDeadCopies(boolean r) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, retryBackoff, stallAfter, healthEvery, monitorPeriod, clock, ceiling, prelude, deadAfter, r);
    }
}
