package io.tabletop.executor;

import java.time.Duration;

/**
 * How a run behaves.
 *
 * @param maxMovesPerServer concurrent steps touching one server (source or destination)
 * @param maxAttempts       tries per step for transient failures (1 = no retry)
 * @param retryBackoff      wait before the first retry; doubles each time
 */
public record ExecutorOptions(int maxMovesPerServer, int maxAttempts, Duration retryBackoff) {
    public ExecutorOptions {
        if (maxMovesPerServer < 1) {
            throw new IllegalArgumentException("maxMovesPerServer must be >= 1");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1");
        }
    }

    public static ExecutorOptions defaults(int maxMovesPerServer) {
        return new ExecutorOptions(maxMovesPerServer, 3, Duration.ofSeconds(2));
    }

    public ExecutorOptions withBackoff(Duration d) {
        return new ExecutorOptions(maxMovesPerServer, maxAttempts, d);
    }
}
