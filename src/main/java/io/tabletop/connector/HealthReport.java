package io.tabletop.connector;

import io.tabletop.domain.Verdict;

import java.util.List;

/**
 * The engine's health verdict, with the engine's own messages (Kudu: ksck's).
 *
 * @param summary one line: "HEALTHY: 6 servers, 240 partitions"
 * @param details the engine's messages, as it wrote them
 */
public record HealthReport(Verdict verdict, String summary, List<String> details) {
    public HealthReport {
        details = List.copyOf(details);
    }

    public boolean isHealthy() {
        return verdict == Verdict.PASS;
    }
}
