package io.tabletop.connector.kudu;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.LocalClusters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Real local Kudu clusters from the kudu-binary artifact, on 127.0.0.1 only: 1 master and N tablet servers
 * with demo tables. Recorded ones live under {@code HOME/kudu-local/NAME}; owned ones in a temporary
 * directory that goes with them.
 */
final class KuduLocalClusters implements LocalClusters {
    private static final Logger LOG = Logger.getLogger(KuduLocalClusters.class.getName());
    private final Path home;

    KuduLocalClusters(Path home) {
        this.home = home;
    }

    Path root() {
        return home.resolve("kudu-local");
    }

    @Override
    public Optional<String> unsupported() {
        return KuduBinary.platformSupported() ? Optional.empty() : Optional.of("the kudu-binary artifact runs on Linux x86_64 only");
    }

    @Override
    public String describeDefault() {
        return "1 master, 5 tablet servers, 3 tables with rows, 127.0.0.1 only";
    }

    @Override
    public Shape defaultShape() {
        return new Shape(5, new int[]{24, 20, 16}, 20_000);
    }

    private Path dir(String name) {
        if (!name.matches("[A-Za-z0-9_-]{1,40}")) {
            throw new IllegalArgumentException("a local cluster name takes letters, digits, - and _ only");
        }
        return root().resolve(name);
    }

    private void check(Shape shape) {
        unsupported().ifPresent(why -> {
            throw new IllegalArgumentException(why);
        });
        if (shape.servers() < 1 || shape.servers() > 20) {
            throw new IllegalArgumentException("a local cluster has 1 to 20 tablet servers");
        }
        if (shape.masters() != 1 && shape.masters() != 3 && shape.masters() != 5) {
            throw new IllegalArgumentException("a local cluster has 1, 3 or 5 masters (a majority must answer)");
        }
    }

    @Override
    public Owned startOwned(Shape shape) throws ConnectorException {
        check(shape);
        KuduBinary binary = KuduBinary.locate(home.resolve("kudu"));
        LocalKuduCluster c = LocalKuduCluster.start(binary, null, shape.masters(), shape.servers(), false, List.of(), List.of());
        try {
            c.loadTables(shape.partitionsPerTable(), shape.rowsPerTable(), Math.min(3, shape.servers()));
        } catch (ConnectorException | RuntimeException e) {
            c.close();
            throw e;
        }
        KuduConnector connector = KuduConnector.local(c);
        String spec = "kudu://" + c.masterAddresses() + "?web=" + String.join(",", c.masterWebAddresses());
        return new Owned() {
            @Override
            public ClusterConnector connector() {
                return connector;
            }

            @Override
            public String spec() {
                return spec;
            }

            @Override
            public String label() {
                return "Local Kudu (" + c.masterAddresses() + ")";
            }

            @Override
            public void close() {
                connector.close();
                try {
                    c.close();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "stopping the local cluster", e);
                }
            }
        };
    }

    @Override
    public Status start(String name, Shape shape) throws ConnectorException {
        check(shape);
        Path dir = dir(name);
        Optional<LocalKuduClusters.Recorded> existing = LocalKuduClusters.attach(dir);
        if (existing.isPresent()) {
            throw new IllegalArgumentException("a local cluster '" + name + "' is recorded already (" + existing.get().spec()
                    + "); stop it first");
        }
        KuduBinary binary = KuduBinary.locate(home.resolve("kudu"));
        LocalKuduCluster c = LocalKuduCluster.start(binary, dir, shape.masters(), shape.servers(), true, List.of(), List.of());
        try {
            c.loadTables(shape.partitionsPerTable(), shape.rowsPerTable(), Math.min(3, shape.servers()));
        } catch (ConnectorException | RuntimeException e) {
            stopQuietly(dir);
            throw e;
        }
        return status(name).orElseThrow();
    }

    @Override
    public Optional<Status> status(String name) {
        return LocalKuduClusters.attach(dir(name)).map(r -> new Status(name, r.spec(),
                r.servers().stream().map(s -> new ServerStatus(s.name(), s.rpc(), s.pid(), r.isRunning(s))).toList()));
    }

    @Override
    public boolean stop(String name) throws IOException {
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
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "stopping a local cluster after a failed start", e);
                }
            });
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "stopping a local cluster after a failed start", e);
        }
    }
}
