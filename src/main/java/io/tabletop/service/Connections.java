package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;

import io.tabletop.connector.kudu.KuduBinary;
import io.tabletop.connector.kudu.KuduConnector;
import io.tabletop.connector.kudu.LocalKuduClusters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

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

    /** Local Kudu clusters started by {@code local-kudu start} live here, one directory each. */
    public static Path localKuduRoot() {
        return AppPaths.home().resolve("kudu-local");
    }

    /**
     * A Kudu connection: {@code kudu://HOST:PORT[,HOST:PORT...][?web=HOST:PORT[,...]]}. The masters' web
     * addresses come from {@code web=}, else from a recorded local cluster with those masters, else
     * HOST:8051 where the RPC port is Kudu's default 7051. With {@code stopLocal}, the recorded local
     * cluster stops the tablet servers the plan stops.
     */
    public static ClusterConnector openKudu(String spec, boolean stopLocal) throws IllegalArgumentException {
        String rest = spec.substring("kudu://".length());
        String web = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            for (String kv : rest.substring(q + 1).split("&")) {
                if (kv.startsWith("web=")) {
                    web = kv.substring(4);
                } else if (!kv.isBlank()) {
                    throw new IllegalArgumentException("unknown option '" + kv + "' in " + spec + " (only web=HOST:PORT,...)");
                }
            }
            rest = rest.substring(0, q);
        }
        List<String> masters = hostPorts(rest, spec);
        Optional<LocalKuduClusters.Recorded> local = LocalKuduClusters.byMasters(localKuduRoot(), String.join(",", masters));
        List<String> webs;
        if (web != null) {
            webs = hostPorts(web, spec);
        } else if (local.isPresent()) {
            webs = List.of(local.get().masterWeb());
        } else if (masters.stream().allMatch(m -> m.endsWith(":7051"))) {
            webs = masters.stream().map(m -> m.substring(0, m.lastIndexOf(':')) + ":8051").toList();
        } else {
            throw new IllegalArgumentException("give the masters' web addresses too: " + spec.split("\\?")[0] + "?web=HOST:PORT[,...]");
        }
        if (stopLocal && local.isEmpty()) {
            throw new IllegalArgumentException("--stop-local: no local cluster with masters " + String.join(",", masters)
                    + " is recorded under " + localKuduRoot());
        }
        try {
            KuduBinary binary = KuduBinary.locate(AppPaths.home().resolve("kudu"));
            return new KuduConnector(String.join(",", masters), webs, binary, stopLocal ? local.get() : null);
        } catch (io.tabletop.connector.ConnectorException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The Kudu connections the operator saved (specs only; no secrets are ever stored). */
    public static List<String> loadSaved() throws Exception {
        return new io.tabletop.store.ConnectionStore(io.tabletop.store.ConnectionStore.defaultFile()).load().stream()
                .map(io.tabletop.store.ConnectionStore.Saved::spec).toList();
    }

    public static void save(List<String> specs) throws java.io.IOException {
        new io.tabletop.store.ConnectionStore(io.tabletop.store.ConnectionStore.defaultFile())
                .save(specs.stream().map(s -> new io.tabletop.store.ConnectionStore.Saved(s, s)).toList());
    }

    /** Checks a kudu:// spec's form without opening anything; throws with the reason. */
    public static void checkKuduSpec(String spec) {
        if (!spec.toLowerCase(Locale.ROOT).startsWith("kudu://")) {
            throw new IllegalArgumentException("a Kudu connection starts with kudu://, e.g. kudu://10.0.1.29:7051,10.0.1.16:7051");
        }
        String rest = spec.substring(7);
        int q = rest.indexOf('?');
        hostPorts(q < 0 ? rest : rest.substring(0, q), spec);
    }

    private static List<String> hostPorts(String list, String spec) {
        List<String> out = new java.util.ArrayList<>();
        for (String hp : list.split(",")) {
            String t = hp.trim();
            int colon = t.lastIndexOf(':');
            if (t.isEmpty() || colon <= 0 || !t.substring(colon + 1).matches("\\d{1,5}")) {
                throw new IllegalArgumentException("'" + t + "' in " + spec + " is not HOST:PORT");
            }
            out.add(t);
        }
        return out;
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
            return openKudu(s, false);
        }
        throw new IllegalArgumentException("cannot understand connection '" + s
                + "' (expected sandbox, sandbox:FIXTURE[:instant] with FIXTURE one of " + String.join(", ", FIXTURES)
                + ", or kudu://HOST:PORT[,HOST:PORT...])");
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
                    SandboxConnector.BYTES_PER_SECOND * SandboxConnector.DEMO_TIME_SCALE, 0.3 / SandboxConnector.DEMO_TIME_SCALE)
                    .withEngineDrain(false).withEngineRereplicates(false);
            case KUDU -> EngineCapabilities.kudu();
            case COUCHBASE -> EngineCapabilities.couchbase();
            case OPENMLDB -> EngineCapabilities.openmldb();
        };
    }
}
