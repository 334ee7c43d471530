package io.tabletop.connector.sandbox;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectionForm;
import io.tabletop.connector.ConnectionSpec;
import io.tabletop.connector.EngineProvider;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The built-in sandbox: {@code sandbox} (the demo cluster at demo speed), {@code sandbox:FIXTURE} (another
 * built-in cluster), {@code sandbox:FIXTURE:instant} (virtual time jumps to the next event).
 */
public final class SandboxProvider implements EngineProvider {
    public static final List<String> FIXTURES = List.of("standard", "baseline", "small", "tight", "large");

    /** A parsed sandbox spec. */
    public record Spec(String fixture, boolean instant) implements ConnectionSpec {
        @Override
        public Engine engine() {
            return Engine.SANDBOX;
        }

        @Override
        public String text() {
            return fixture.equals("standard") && !instant ? "sandbox" : "sandbox:" + fixture + (instant ? ":instant" : "");
        }
    }

    @Override
    public Engine engine() {
        return Engine.SANDBOX;
    }

    @Override
    public String displayName() {
        return "Sandbox (built-in)";
    }

    @Override
    public List<String> schemes() {
        return List.of("sandbox");
    }

    @Override
    public String example() {
        return "sandbox, sandbox:FIXTURE[:instant] with FIXTURE one of " + String.join(", ", FIXTURES);
    }

    @Override
    public Spec parse(String spec) {
        String[] parts = spec.strip().toLowerCase(Locale.ROOT).split(":");
        if (!parts[0].equals("sandbox") || parts.length > 3) {
            throw new IllegalArgumentException("a sandbox connection is sandbox or sandbox:FIXTURE[:instant], was '" + spec + "'");
        }
        String fixture = parts.length > 1 ? parts[1] : "standard";
        if (!FIXTURES.contains(fixture)) {
            throw new IllegalArgumentException("unknown sandbox cluster '" + fixture + "' (known: " + String.join(", ", FIXTURES) + ")");
        }
        if (parts.length > 2 && !parts[2].equals("instant")) {
            throw new IllegalArgumentException("unknown sandbox speed '" + parts[2] + "' (expected instant)");
        }
        return new Spec(fixture, parts.length > 2);
    }

    @Override
    public ClusterConnector open(ConnectionSpec spec, OpenOptions options) {
        Spec s = (Spec) spec;
        ClusterSnapshot initial = fixture(s.fixture());
        return s.instant() ? SandboxConnector.instant(initial) : SandboxConnector.realTime(initial, SandboxConnector.DEMO_TIME_SCALE);
    }

    /** A built-in cluster by name. */
    public static ClusterSnapshot fixture(String name) {
        return switch (name) {
            case "standard" -> SandboxFixtures.standard();
            case "baseline" -> SandboxFixtures.kuduBaseline();
            case "small" -> SandboxFixtures.small();
            case "tight" -> SandboxFixtures.tight();
            case "large" -> SandboxFixtures.large();
            default -> throw new IllegalArgumentException("unknown sandbox cluster '" + name + "' (known: " + String.join(", ", FIXTURES) + ")");
        };
    }

    @Override
    public EngineCapabilities capabilities() {
        return SandboxConnector.rules(SandboxConnector.DEMO_TIME_SCALE);
    }

    @Override
    public ConnectionForm form() {
        return new ConnectionForm(List.of(
                ConnectionForm.Field.choice("fixture", "Cluster", FIXTURES, "standard",
                        "standard: 6 servers, 240 partitions; large: 1,000 servers, 100,000 partitions"),
                ConnectionForm.Field.choice("speed", "Speed", List.of("demo", "instant"), "demo",
                        "demo: 9x real time; instant: virtual time jumps to the next event")));
    }

    @Override
    public String specFrom(Map<String, String> values) {
        String fixture = ConnectionForm.value(values, "fixture");
        String spec = "sandbox:" + (fixture.isEmpty() ? "standard" : fixture)
                + (ConnectionForm.value(values, "speed").equals("instant") ? ":instant" : "");
        return parse(spec).text();
    }
}
