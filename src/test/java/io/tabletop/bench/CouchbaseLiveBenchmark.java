package io.tabletop.bench;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.couchbase.CouchbaseConnector;
import io.tabletop.connector.couchbase.CouchbaseProvider;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.emulator.NsServerEmulator;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How long the console's 2-second refresh of a Couchbase cluster takes in the connector: 8 data nodes and
 * 10 buckets of 1,024 vBuckets with 2 replicas (30,720 vBucket copies) on the ns_server emulator, 30
 * refreshes; the first reads the maps, the others only when they may have changed. A benchmark, not a
 * test: run it with the test classpath (see the README).
 */
public final class CouchbaseLiveBenchmark {
    private CouchbaseLiveBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        NsServerEmulator.Builder b = NsServerEmulator.builder().credentials("Administrator", "bench-password");
        for (int n = 1; n <= 8; n++) {
            b.dataNode(n);
        }
        for (int k = 1; k <= 10; k++) {
            b.bucket("bucket-" + k, 2, 1024, 100_000L * k);
        }
        try (NsServerEmulator emu = b.start()) {
            CouchbaseProvider p = new CouchbaseProvider();
            try (ClusterConnector c = p.open(p.parse("couchbase://Administrator@" + String.join(",", emu.hosts())),
                    new EngineProvider.OpenOptions(r -> Optional.of("bench-password".toCharArray()), false))) {
                List<Double> ms = new ArrayList<>();
                ClusterSnapshot s = null;
                for (int i = 0; i < 31; i++) {
                    long t0 = System.nanoTime();
                    s = c.snapshot();
                    ms.add((System.nanoTime() - t0) / 1e6);
                }
                double first = ms.remove(0);
                List<Double> sorted = ms.stream().sorted().toList();
                System.out.printf(Locale.ROOT, "%d nodes, %d buckets, %d vBuckets; first read (with maps) %.0f ms; next 30 refreshes: "
                                + "median %.1f ms, max %.1f ms; maps downloaded %d time(s)%n", s.servers().size(), s.tables().size(),
                        s.partitions().size(), first, sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1),
                        ((CouchbaseConnector) c).mapReads());
            }
        }
    }
}
