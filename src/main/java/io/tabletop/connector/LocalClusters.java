package io.tabletop.connector;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Real clusters of one engine that Tabletop starts on this machine, on loopback only: for the console
 * ("Start local cluster", gone when the console closes) and for the command line (detached, recorded
 * by name, stopped by name). Thread-safe.
 */
public interface LocalClusters {
    /** Why no cluster can start here (the engine's binaries run on Linux x86_64 only), or empty. */
    Optional<String> unsupported();

    /** What a default cluster holds, for buttons and help: "1 master, 5 tablet servers, 3 tables with rows". */
    String describeDefault();

    /** The default shape: servers, partitions per table, rows per table. */
    Shape defaultShape();

    /** Starts a cluster that lives as long as the returned handle. */
    Owned startOwned(Shape shape) throws ConnectorException;

    /** Starts a recorded cluster that outlives this process; {@link #stop} ends it. */
    Status start(String name, Shape shape) throws ConnectorException;

    Optional<Status> status(String name);

    /** Stops every server of the named cluster and deletes its data; false when there is none. */
    boolean stop(String name) throws IOException;

    /**
     * How many servers, the tables with their partitions and rows, and how many masters (Kudu; 1, or 3 as
     * production runs them).
     */
    record Shape(int servers, int[] partitionsPerTable, int rowsPerTable, int masters) {
        public Shape(int servers, int[] partitionsPerTable, int rowsPerTable) {
            this(servers, partitionsPerTable, rowsPerTable, 1);
        }
    }

    /** One server of a recorded cluster. */
    record ServerStatus(String name, String address, long pid, boolean running) {
    }

    /** A recorded cluster: its connection spec and its servers. */
    record Status(String name, String spec, List<ServerStatus> servers) {
    }

    /** A cluster owned by the caller: closing it stops every process it started. */
    interface Owned extends AutoCloseable {
        ClusterConnector connector();

        /** The spec another process can connect with. */
        String spec();

        /** A short name for the connection list: "Local Kudu (127.0.0.1:27500)". */
        String label();

        @Override
        void close();
    }
}
