package io.tabletop.executor;

import io.tabletop.connector.HealthReport;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * What came before a run, so that the run neither reads again what was read a moment ago nor hides how long
 * the operator waited for its first step.
 *
 * @param launchedAt when the operator launched it (the command line: the process's start; the console: Run)
 * @param readAt     when the pre-check read the cluster (the plan's snapshot and the health verdict), or null
 * @param health     the pre-check's health verdict, or null when it could not be had
 * @param movesAfter replica moves (steps that take a server's slot) start only once this completes (the
 *                   rows counted before the run), or null; other steps go on meanwhile
 */
public record Prelude(Instant launchedAt, Instant readAt, HealthReport health, CompletableFuture<?> movesAfter) {
    public Prelude(Instant launchedAt, Instant readAt, HealthReport health) {
        this(launchedAt, readAt, health, null);
    }

    /**
     * How old the pre-check's reads may be and still serve the run's first health gate and its first drift
     * check: the cluster was read for the plan moments before (an {@code apply --yes}, or Run clicked at once).
     */
    public static final Duration FRESH = Duration.ofSeconds(10);

    public static Prelude launched(Instant at) {
        return new Prelude(at, null, null);
    }

    /** Seconds since the pre-check read the cluster, or +inf when it did not. */
    public double readAgeSeconds(Instant now) {
        return readAt == null ? Double.POSITIVE_INFINITY : Duration.between(readAt, now).toMillis() / 1000.0;
    }

    /** Whether the pre-check's reads are recent enough to serve the run's first gate and drift check. */
    public boolean fresh(Instant now) {
        return fresh(readAt, now);
    }

    /** Whether a read made at {@code readAt} (null: none) is recent enough to serve as if made now. */
    public static boolean fresh(Instant readAt, Instant now) {
        return readAt != null && !readAt.isAfter(now) && Duration.between(readAt, now).compareTo(FRESH) <= 0;
    }
}
