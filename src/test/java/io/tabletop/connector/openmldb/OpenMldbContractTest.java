package io.tabletop.connector.openmldb;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The port's contract on a real ZooKeeper and the nameserver emulator, auto_failover off (as during a run). */
class OpenMldbContractTest extends ConnectorContract {
    private OpenMldbCluster cluster;
    private ClusterConnector connector;

    @BeforeAll
    void start() throws Exception {
        cluster = OpenMldbConnectorTest.seed002("sdefault", 1);
        cluster.ns.setAutoFailover(false);
        connector = openAnother();
    }

    @Override
    protected ClusterConnector connector() {
        return connector;
    }

    @Override
    protected ClusterConnector openAnother() throws Exception {
        return cluster.open(cluster.spec(), null);
    }

    @AfterAll
    void stop() throws Exception {
        if (connector != null) {
            connector.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }
}
