package io.tabletop.connector.kudu;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Local clusters that outlive the process that started them ({@code tabletop local-kudu start}): each
 * records its addresses and process ids in {@code <dir>/cluster.properties}. A later process attaches by
 * name or by master address and stops servers by pid, after checking that the pid still runs a Kudu
 * server of that directory (a reused pid is never signalled).
 */
public final class LocalKuduClusters {
    private static final String FILE = "cluster.properties";

    private LocalKuduClusters() {
    }

    /** One recorded cluster. */
    public record Recorded(Path dir, String masters, String masterWeb, List<Server> servers) implements KuduConnector.ServerControl {
        /** One recorded server process. */
        public record Server(String name, String rpc, String web, long pid) {
        }

        public String spec() {
            return "kudu://" + masters + "?web=" + masterWeb;
        }

        public boolean isRunning(Server s) {
            return process(s).isPresent();
        }

        private Optional<ProcessHandle> process(Server s) {
            return ProcessHandle.of(s.pid).filter(ProcessHandle::isAlive).filter(h -> h.info().arguments()
                    .map(args -> String.join(" ", args).contains("--fs_wal_dir=" + dir.resolve(s.name)))
                    .orElse(false));
        }

        @Override
        public void stop(String rpcAddress) throws ConnectorException {
            Server s = servers.stream().filter(x -> x.rpc.equals(rpcAddress)).findFirst().orElseThrow(() ->
                    new ConnectorException(Engine.KUDU, "stop " + rpcAddress, "not a server of the local cluster in " + dir));
            terminate(s);
        }

        @Override
        public boolean controls(String rpcAddress) {
            return servers.stream().anyMatch(x -> x.rpc.equals(rpcAddress));
        }

        void terminate(Server s) {
            process(s).ifPresent(h -> {
                h.destroy();
                try {
                    h.onExit().get(15, TimeUnit.SECONDS);
                } catch (Exception e) {
                    h.destroyForcibly();
                }
            });
        }

        /** Stops every server (tablet servers first) and deletes the directory. */
        public void stopAll() throws IOException {
            List<Server> order = new ArrayList<>(servers);
            Collections.reverse(order);
            for (Server s : order) {
                terminate(s);
            }
            try (Stream<Path> w = Files.walk(dir)) {
                w.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    static void record(LocalKuduCluster c) throws ConnectorException {
        Properties p = new Properties();
        p.setProperty("masters", c.masterAddresses());
        p.setProperty("masterWeb", String.join(",", c.masterWebAddresses()));
        List<String> names = new ArrayList<>();
        for (LocalKuduCluster.Proc proc : c.allProcs()) {
            names.add(proc.name());
            p.setProperty(proc.name() + ".rpc", proc.rpcAddress());
            p.setProperty(proc.name() + ".web", proc.webAddress());
            p.setProperty(proc.name() + ".pid", String.valueOf(proc.pid()));
        }
        p.setProperty("servers", String.join(",", names));
        try (Writer w = Files.newBufferedWriter(c.dataDir().resolve(FILE))) {
            p.store(w, "a local Kudu cluster started by tabletop local-kudu start");
            try {
                Files.setPosixFilePermissions(c.dataDir().resolve(FILE), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: its defaults apply
            }
        } catch (IOException e) {
            throw new ConnectorException(Engine.KUDU, "record the local cluster", e.getMessage(), false, e);
        }
    }

    /** The cluster recorded in {@code dir}, if any. */
    public static Optional<Recorded> attach(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(f)) {
            p.load(r);
        } catch (IOException e) {
            return Optional.empty();
        }
        List<Recorded.Server> servers = new ArrayList<>();
        for (String n : p.getProperty("servers", "").split(",")) {
            if (!n.isBlank()) {
                servers.add(new Recorded.Server(n, p.getProperty(n + ".rpc"), p.getProperty(n + ".web"),
                        Long.parseLong(p.getProperty(n + ".pid", "-1"))));
            }
        }
        return Optional.of(new Recorded(dir, p.getProperty("masters"), p.getProperty("masterWeb"), servers));
    }

    /** Every recorded cluster under {@code root} (one directory each). */
    public static List<Recorded> all(Path root) {
        List<Recorded> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (Stream<Path> s = Files.list(root)) {
            s.sorted().forEach(d -> attach(d).ifPresent(out::add));
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** The recorded cluster whose masters are {@code masters}, if any. */
    public static Optional<Recorded> byMasters(Path root, String masters) {
        return all(root).stream().filter(r -> r.masters().equals(masters)).findFirst();
    }
}
