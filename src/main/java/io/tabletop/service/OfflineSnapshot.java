package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Step;
import io.tabletop.domain.Verdict;
import io.tabletop.store.FormatException;
import io.tabletop.store.SnapshotJson;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A saved snapshot opened offline, as a read-only connector: the console shows its servers, partitions and
 * placement, plans and previews on it with the engine's rules, and exports a review; it runs nothing. A
 * change review is often prepared before the change window, from a snapshot taken earlier. Thread-safe.
 */
public final class OfflineSnapshot implements ClusterConnector {
    private final ClusterSnapshot snapshot;
    private final EngineCapabilities caps;
    private final String name;

    public OfflineSnapshot(ClusterSnapshot snapshot, EngineCapabilities caps, String name) {
        this.snapshot = snapshot;
        this.caps = caps;
        this.name = name;
    }

    /**
     * Reads a snapshot file; the engine's rules come from the registry.
     *
     * @throws FormatException when the file is not a snapshot (binary, malformed, wrong fields), with the reason
     */
    public static OfflineSnapshot open(Path file, Connections connections) throws IOException, FormatException {
        ClusterSnapshot s = SnapshotJson.read(file);
        EngineCapabilities caps;
        try {
            caps = connections.capabilitiesFor(s.engine());
        } catch (IllegalArgumentException e) {
            throw new FormatException(file + ": " + e.getMessage());
        }
        return new OfflineSnapshot(s, caps, "Offline: " + file.getFileName() + " (" + s.cluster() + ")");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Engine engine() {
        return snapshot.engine();
    }

    @Override
    public EngineCapabilities capabilities() {
        return caps;
    }

    @Override
    public ClusterSnapshot snapshot() {
        return snapshot;
    }

    @Override
    public HealthReport health() {
        return new HealthReport(Verdict.WARN, "offline snapshot" + (snapshot.takenAt() == null ? "" : " taken " + snapshot.takenAt())
                + ": the live cluster's health is checked again before any run", List.of());
    }

    @Override
    public void execute(Step step, StepProgress progress) throws ConnectorException {
        throw new ConnectorException(engine(), step.describe(), "this is an offline snapshot: connect to the cluster to run the plan");
    }

    @Override
    public boolean readOnly() {
        return true;
    }
}
