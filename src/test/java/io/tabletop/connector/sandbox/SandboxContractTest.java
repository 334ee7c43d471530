package io.tabletop.connector.sandbox;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorContract;
import org.junit.jupiter.api.AfterAll;

/** The port's contract, on the sandbox. */
class SandboxContractTest extends ConnectorContract {
    private final SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline());

    @Override
    protected ClusterConnector connector() {
        return sandbox;
    }

    @Override
    protected ClusterConnector openAnother() {
        return SandboxConnector.instant(SandboxFixtures.small());
    }

    @AfterAll
    void close() {
        sandbox.close();
    }
}
