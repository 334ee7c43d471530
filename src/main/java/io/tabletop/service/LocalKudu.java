package io.tabletop.service;

import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.kudu.KuduBinary;
import io.tabletop.connector.kudu.LocalKuduCluster;
import io.tabletop.connector.kudu.LocalKuduClusters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Local Kudu clusters for the command line and the console: started detached (they outlive the process
 * that started them), recorded by name under {@link Connections#localKuduRoot()}, stopped by name.
 */
public final class LocalKudu {
    private LocalKudu() {
    }

    /** One server of a recorded cluster. */
    public record ServerStatus(String name, String rpcAddress, long pid, boolean running) {
    }

    /** A recorded cluster: its connection spec and its servers. */
    public record Status(String name, String spec, String masters, List<ServerStatus> servers) {
    }

    public static boolean platformSupported() {
        return KuduBinary.platformSupported();
    }

    static Path dir(String name) {
        if (!name.matches("[A-Za-z0-9_-]{1,40}")) {
            throw new IllegalArgumentException("a local cluster name takes letters, digits, - and _ only");
        }
        return Connections.localKuduRoot().resolve(name);
    }

    /**
     * Starts 1 master and {@code tservers} tablet servers with one demo table per entry of
     * {@code tables} (its hash partitions), {@code rows} rows each; returns the connection spec.
     */
    public static Status start(String name, int tservers, int[] tables, int rows) throws ConnectorException {
        if (!platformSupported()) {
            throw new IllegalArgumentException("the kudu-binary artifact runs on Linux x86_64 only");
        }
        if (tservers < 1 || tservers > 20) {
            throw new IllegalArgumentException("a local cluster has 1 to 20 tablet servers");
        }
        Path dir = dir(name);
        Optional<LocalKuduClusters.Recorded> existing = LocalKuduClusters.attach(dir);
        if (existing.isPresent()) {
            throw new IllegalArgumentException("a local cluster '" + name + "' is recorded already (" + existing.get().spec()
                    + "); stop it first");
        }
        KuduBinary binary = KuduBinary.locate(AppPaths.home().resolve("kudu"));
        LocalKuduCluster c = LocalKuduCluster.start(binary, dir, tservers, true);
        try {
            c.loadTables(tables, rows, Math.min(3, tservers));
        } catch (ConnectorException | RuntimeException e) {
            stopQuietly(dir);
            throw e;
        }
        return status(name).orElseThrow();
    }

    /** A local cluster owned by the caller: closing it stops every server it started. */
    public record Owned(io.tabletop.connector.ClusterConnector connector, String spec, AutoCloseable cluster) implements AutoCloseable {
        @Override
        public void close() {
            connector.close();
            try {
                cluster.close();
            } catch (Exception e) {
                java.util.logging.Logger.getLogger(LocalKudu.class.getName()).log(java.util.logging.Level.WARNING, "stopping the local cluster", e);
            }
        }
    }

    /** Starts a local cluster that lives as long as the returned handle (the console's "Start local Kudu cluster"). */
    public static Owned startOwned(int tservers, int[] tables, int rows) throws ConnectorException {
        if (!platformSupported()) {
            throw new IllegalArgumentException("the kudu-binary artifact runs on Linux x86_64 only");
        }
        KuduBinary binary = KuduBinary.locate(AppPaths.home().resolve("kudu"));
        LocalKuduCluster c = LocalKuduCluster.start(binary, null, tservers);
        try {
            c.loadTables(tables, rows, Math.min(3, tservers));
        } catch (ConnectorException | RuntimeException e) {
            c.close();
            throw e;
        }
        return new Owned(io.tabletop.connector.kudu.KuduConnector.local(c),
                "kudu://" + c.masterAddresses() + "?web=" + c.masterWebAddress(), c);
    }

    public static Optional<Status> status(String name) {
        return LocalKuduClusters.attach(dir(name)).map(r -> new Status(name, r.spec(), r.masters(),
                r.servers().stream().map(s -> new ServerStatus(s.name(), s.rpc(), s.pid(), r.isRunning(s))).toList()));
    }

    public static List<Status> all() {
        return LocalKuduClusters.all(Connections.localKuduRoot()).stream()
                .map(r -> status(r.dir().getFileName().toString()).orElseThrow()).toList();
    }

    /** Stops every server of the named cluster and deletes its data; false when there is none. */
    public static boolean stop(String name) throws IOException {
        Optional<LocalKuduClusters.Recorded> r = LocalKuduClusters.attach(dir(name));
        if (r.isEmpty()) {
            return false;
        }
        r.get().stopAll();
        return true;
    }

    private static void stopQuietly(Path dir) {
        try {
            LocalKuduClusters.attach(dir).ifPresent(r -> {
                try {
                    r.stopAll();
                } catch (IOException ignored) {
                    // best effort after a failed start
                }
            });
        } catch (RuntimeException ignored) {
            // best effort after a failed start
        }
    }
}
