package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;

import java.util.List;
import java.util.Locale;

/**
 * Opens connections from their spec:
 * <ul>
 *   <li>{@code sandbox} — the built-in demo cluster at demo speed;</li>
 *   <li>{@code sandbox:FIXTURE} — another built-in cluster: standard, baseline, small, tight;</li>
 *   <li>{@code sandbox:FIXTURE:instant} — the same, with virtual time jumping to the next event.</li>
 * </ul>
 */
public final class Connections {
    public static final List<String> FIXTURES = List.of("standard", "baseline", "small", "tight");

    private Connections() {
    }

    public static ClusterConnector open(String spec) throws IllegalArgumentException {
        String s = spec == null ? "" : spec.trim();
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.equals("sandbox") || lower.startsWith("sandbox:")) {
            String[] parts = lower.split(":");
            String fixture = parts.length > 1 ? parts[1] : "standard";
            boolean instant = parts.length > 2 && parts[2].equals("instant");
            if (parts.length > 2 && !instant) {
                throw new IllegalArgumentException("unknown sandbox speed '" + parts[2] + "' (expected instant)");
            }
            ClusterSnapshot initial = fixture(fixture);
            return instant ? SandboxConnector.instant(initial) : SandboxConnector.realTime(initial, SandboxConnector.DEMO_TIME_SCALE);
        }
        if (lower.startsWith("kudu://")) {
            throw new IllegalArgumentException("Kudu connections are not in this build yet; use --connect sandbox");
        }
        throw new IllegalArgumentException("cannot understand connection '" + s
                + "' (expected sandbox, sandbox:FIXTURE[:instant] with FIXTURE one of " + String.join(", ", FIXTURES) + ")");
    }

    public static ClusterSnapshot fixture(String name) {
        return switch (name) {
            case "standard" -> SandboxFixtures.standard();
            case "baseline" -> SandboxFixtures.kuduBaseline();
            case "small" -> SandboxFixtures.small();
            case "tight" -> SandboxFixtures.tight();
            default -> throw new IllegalArgumentException("unknown sandbox cluster '" + name + "' (known: " + String.join(", ", FIXTURES) + ")");
        };
    }

    /** The rules to plan a saved snapshot with, when no live connector is at hand. */
    public static EngineCapabilities capabilitiesFor(Engine engine) {
        return switch (engine) {
            case SANDBOX -> EngineCapabilities.kudu().withSpeed(SandboxConnector.MOVE_OVERHEAD_SECONDS / SandboxConnector.DEMO_TIME_SCALE,
                    SandboxConnector.BYTES_PER_SECOND * SandboxConnector.DEMO_TIME_SCALE, 0.3 / SandboxConnector.DEMO_TIME_SCALE);
            case KUDU -> EngineCapabilities.kudu();
            case COUCHBASE, OPENMLDB -> throw new IllegalArgumentException("planning for " + engine.wireName()
                    + " snapshots is not in this build yet (sandbox and kudu are)");
        };
    }
}
