package io.tabletop.connector.couchbase;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorContract;
import io.tabletop.connector.EngineProvider;
import io.tabletop.emulator.NsServerEmulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.Optional;

/** The port's contract, on the ns_server emulator: three data nodes, a query node, two buckets and a memcached one. */
class CouchbaseContractTest extends ConnectorContract {
    private NsServerEmulator emu;
    private ClusterConnector connector;

    @BeforeAll
    void start() throws Exception {
        emu = NsServerEmulator.builder().credentials("Administrator", CouchbaseConnectorTest.PASSWORD)
                .dataNode(1).dataNode(2).dataNode(3).node(4, java.util.List.of("n1ql", "index"), null)
                .bucket("travel-sample", 1, 64, 6_300).bucket("beer-sample", 2, 64, 7_303).memcachedBucket("sessions").start();
        connector = openAnother();
    }

    @Override
    protected ClusterConnector connector() {
        return connector;
    }

    @Override
    protected ClusterConnector openAnother() throws Exception {
        CouchbaseProvider p = new CouchbaseProvider();
        return p.open(p.parse(CouchbaseConnectorTest.spec(emu)),
                new EngineProvider.OpenOptions(r -> Optional.of(CouchbaseConnectorTest.PASSWORD.toCharArray()), false));
    }

    @Override
    protected Optional<String> secret() {
        return Optional.of(CouchbaseConnectorTest.PASSWORD);
    }

    @AfterAll
    void stop() {
        if (connector != null) {
            connector.close();
        }
        if (emu != null) {
            emu.close();
        }
    }
}
