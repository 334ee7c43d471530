package io.tabletop.connector.kudu;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.nio.file.Path;
import java.util.List;

/** The port's contract, on a real Kudu cluster (1 master, 3 tablet servers, 2 small tables), stopped after. */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduContractTest extends ConnectorContract {
    private LocalKuduCluster cluster;
    private KuduConnector kudu;

    @BeforeAll
    void start() throws Exception {
        cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 3);
        try {
            cluster.loadTables(new int[]{4, 3}, 500, 3);
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        kudu = KuduConnector.local(cluster);
    }

    @AfterAll
    void stop() {
        if (kudu != null) {
            kudu.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected ClusterConnector connector() {
        return kudu;
    }

    @Override
    protected ClusterConnector openAnother() {
        return new KuduConnector(cluster.masterAddresses(), List.of(cluster.masterWebAddress()), cluster.binary(), null);
    }
}
