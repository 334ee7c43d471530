package io.tabletop.connector.kudu;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorContract;
import io.tabletop.connector.EngineProvider;
import io.tabletop.service.AppPaths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** The masters' RPC addresses alone, on any ports: the web UIs come from the masters (kudu master list). */
    @Test
    void theMastersAloneAreEnough() throws Exception {
        KuduProvider p = new KuduProvider(AppPaths.home());
        try (ClusterConnector c = p.open(p.parse("kudu://" + cluster.masterAddresses()), EngineProvider.OpenOptions.defaults())) {
            assertEquals(kudu.snapshot().servers().size(), c.snapshot().servers().size());
            assertEquals(kudu.snapshot().partitions().size(), c.snapshot().partitions().size());
        }
    }

    /**
     * Where ksck gives no size, the tservers' own metrics do: on this cluster both are there, and for every
     * tablet the metrics give the size ksck gives (both are the replica's on-disk size; the largest replica's).
     */
    @Test
    void tabletSizesFromTheTserversMetricsAgreeWithKsck() throws Exception {
        var snap = kudu.snapshot();
        var dump = new KuduMasterHttp(List.of(cluster.masterWebAddress())).dumpEntities();
        java.util.Set<String> all = new java.util.HashSet<>();
        snap.partitions().forEach(p -> all.add(p.id().value()));
        java.util.Map<String, Long> fromMetrics = kudu.sizesFromMetrics(dump, all);
        assertEquals(all, fromMetrics.keySet(), "every tablet sized from the metrics");
        for (var p : snap.partitions()) {
            long ksck = p.sizeBytes();
            long metrics = fromMetrics.get(p.id().value());
            assertTrue(ksck > 0 && Math.abs(ksck - metrics) <= Math.max(ksck, metrics) / 10,
                    p.id() + ": ksck " + ksck + " B, metrics " + metrics + " B");
        }
    }

    /**
     * Rows counted before a run take the tables from the snapshot just read (no second listing), and count
     * as many rows as a count that lists the tables itself; a snapshot of one table counts that table only.
     */
    @Test
    void rowsAreCountedForTheTablesOfTheSnapshotJustRead() throws Exception {
        var snap = kudu.snapshot();
        var listed = kudu.rowCounts().orElseThrow();
        assertEquals(2, listed.size());
        assertEquals(listed, kudu.rowCounts(snap).orElseThrow());
        var one = snap.tables().get(0);
        var oneTable = new io.tabletop.domain.ClusterSnapshot(snap.engine(), snap.cluster(), snap.takenAt(), snap.servers(), List.of(one),
                snap.partitions().stream().filter(p -> p.table().equals(one.id())).toList());
        assertEquals(java.util.Map.of(one.name(), listed.get(one.name())), kudu.rowCounts(oneTable).orElseThrow());
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
