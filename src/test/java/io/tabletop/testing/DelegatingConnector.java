package io.tabletop.testing;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Step;

import java.util.Map;
import java.util.Optional;

/** A connector that passes every call to another, for tests that count or change some of them. */
public abstract class DelegatingConnector implements ClusterConnector {
    protected final ClusterConnector inner;

    protected DelegatingConnector(ClusterConnector inner) {
        this.inner = inner;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public Engine engine() {
        return inner.engine();
    }

    @Override
    public String lockKey(String cluster) {
        return inner.lockKey(cluster);
    }

    @Override
    public java.util.List<String> otherOperations(ClusterSnapshot snapshot, java.util.Collection<io.tabletop.domain.ServerId> own)
            throws ConnectorException {
        return inner.otherOperations(snapshot, own);
    }

    @Override
    public EngineCapabilities capabilities() {
        return inner.capabilities();
    }

    @Override
    public ClusterSnapshot snapshot() throws ConnectorException {
        return inner.snapshot();
    }

    @Override
    public HealthReport health() throws ConnectorException {
        return inner.health();
    }

    @Override
    public Optional<Map<String, Long>> rowCounts() throws ConnectorException {
        return inner.rowCounts();
    }

    @Override
    public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        inner.execute(step, progress);
    }

    @Override
    public String command(Step step) {
        return inner.command(step);
    }

    @Override
    public boolean isRetryable(Step step, ConnectorException e) {
        return inner.isRetryable(step, e);
    }

    @Override
    public Optional<EngineWork> engineWork() throws ConnectorException {
        return inner.engineWork();
    }

    @Override
    public void adoptEngineWork(EngineWork work) {
        inner.adoptEngineWork(work);
    }
}
