package io.tabletop.connector.kudu;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * A real Kudu cluster on this machine: one master and N tablet servers from the kudu-binary artifact,
 * bound to 127.0.0.1 on free ports, with their data in a directory of their own. {@link #close()} stops
 * every process it started (SIGTERM, then SIGKILL), and a shutdown hook does the same if the JVM exits
 * first. Thread-safe.
 */
public final class LocalKuduCluster implements AutoCloseable, KuduConnector.ServerControl {
    private static final Logger LOG = Logger.getLogger(LocalKuduCluster.class.getName());

    private final KuduBinary binary;
    private final Path dataDir;
    private final boolean deleteOnClose;
    private volatile boolean keepDataDir;
    private final List<Proc> procs = new ArrayList<>();
    private final Thread hook;
    private String masterRpc;
    private String masterWeb;
    private List<String> masterWebs = List.of();

    /** One server process. */
    public static final class Proc {
        final String name;
        final String rpc;
        final String web;
        final List<String> command;
        volatile Process process;

        Proc(String name, String rpc, String web, List<String> command) {
            this.name = name;
            this.rpc = rpc;
            this.web = web;
            this.command = command;
        }

        public String name() {
            return name;
        }

        public String rpcAddress() {
            return rpc;
        }

        public String webAddress() {
            return web;
        }

        public boolean isAlive() {
            Process p = process;
            return p != null && p.isAlive();
        }

        public long pid() {
            Process p = process;
            return p == null ? -1 : p.pid();
        }
    }

    private final boolean detached;

    private LocalKuduCluster(KuduBinary binary, Path dataDir, boolean deleteOnClose, boolean detached) {
        this.binary = binary;
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.detached = detached;
        this.hook = new Thread(this::stopAll, "tabletop-kudu-local-shutdown");
        if (!detached) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
    }

    /**
     * Starts 1 master and {@code tservers} tablet servers and waits until every tablet server is live.
     *
     * @param dataDir a directory for the servers' data and logs; null for a fresh temporary one,
     *                deleted on close
     */
    public static LocalKuduCluster start(KuduBinary binary, Path dataDir, int tservers) throws ConnectorException {
        return start(binary, dataDir, tservers, false);
    }

    /**
     * As {@link #start(KuduBinary, Path, int)}; a {@code detached} cluster outlives this JVM (no shutdown
     * hook, nothing deleted) and records itself in {@code dataDir/cluster.properties} so that a later
     * process can {@link LocalKuduClusters#attach attach} to it and stop it.
     */
    public static LocalKuduCluster start(KuduBinary binary, Path dataDir, int tservers, boolean detached) throws ConnectorException {
        return start(binary, dataDir, tservers, detached, List.of(), List.of());
    }

    /**
     * As {@link #start(KuduBinary, Path, int, boolean)} with extra flags for the master and the tablet servers
     * (fault tests shorten {@code --tserver_unresponsive_timeout_ms} and
     * {@code --follower_unavailable_considered_failed_sec} so that Kudu declares a killed server dead and
     * re-replicates its copies in seconds, not minutes).
     */
    public static LocalKuduCluster start(KuduBinary binary, Path dataDir, int tservers, boolean detached,
                                         List<String> masterFlags, List<String> tserverFlags) throws ConnectorException {
        return start(binary, dataDir, 1, tservers, detached, masterFlags, tserverFlags);
    }

    /** As above with {@code masters} masters (1 or 3, as production runs them), which elect a leader among themselves. */
    public static LocalKuduCluster start(KuduBinary binary, Path dataDir, int masters, int tservers, boolean detached,
                                         List<String> masterFlags, List<String> tserverFlags) throws ConnectorException {
        if (binary.home() == null) {
            throw new ConnectorException(Engine.KUDU, "start a local cluster", "the kudu-binary artifact is needed (kudu-master, kudu-tserver); only a kudu CLI was found");
        }
        LocalKuduCluster c;
        try {
            boolean temp = dataDir == null;
            Path dir = temp ? Files.createTempDirectory("tabletop-kudu-") : dataDir;
            Files.createDirectories(dir.resolve("logs"));
            c = new LocalKuduCluster(binary, dir, temp && !detached, detached);
            c.masterExtra = List.copyOf(masterFlags);
            c.tserverExtra = List.copyOf(tserverFlags);
        } catch (IOException e) {
            throw new ConnectorException(Engine.KUDU, "start a local cluster", "cannot create the data directory: " + e.getMessage(), false, e);
        }
        try {
            c.startMasters(masters);
            for (int i = 0; i < tservers; i++) {
                c.addTServer();
            }
            c.awaitLive(tservers, 60_000);
            if (detached) {
                LocalKuduClusters.record(c);
            }
            return c;
        } catch (ConnectorException | RuntimeException e) {
            c.keepDataDir = true; // the message points at the logs
            c.close();
            throw e;
        }
    }

    private List<String> common() {
        return List.of("--never_fsync", "--unlock_unsafe_flags", "--unlock_experimental_flags",
                "--webserver_interface=127.0.0.1", "--webserver_doc_root=" + binary.webRoot(),
                "--time_source=system_unsync", "--block_cache_capacity_mb=64",
                "--memory_limit_hard_bytes=1073741824", "--maintenance_manager_num_threads=1",
                "--log_dir=" + dataDir.resolve("logs"));
    }

    private List<String> masterExtra = List.of();
    private List<String> tserverExtra = List.of();

    private synchronized void startMasters(int n) throws ConnectorException {
        List<String> rpcs = new ArrayList<>();
        List<Integer> webs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rpcs.add("127.0.0.1:" + freePort());
            webs.add(freePort());
        }
        masterRpc = String.join(",", rpcs);
        masterWebs = webs.stream().map(w -> "127.0.0.1:" + w).toList();
        masterWeb = masterWebs.get(0);
        for (int i = 0; i < n; i++) {
            List<String> cmd = new ArrayList<>(List.of(binary.master().toString(), "--fs_wal_dir=" + dataDir.resolve("master-" + i),
                    "--rpc_bind_addresses=" + rpcs.get(i), "--webserver_port=" + webs.get(i)));
            if (n > 1) {
                cmd.add("--master_addresses=" + masterRpc);
            }
            cmd.addAll(common());
            cmd.addAll(masterExtra);
            Proc p = new Proc("master-" + i, rpcs.get(i), masterWebs.get(i), cmd);
            procs.add(p);
            launch(p);
        }
    }

    /** Adds a tablet server (it registers with the master by itself). */
    public synchronized Proc addTServer() throws ConnectorException {
        int index = (int) procs.stream().filter(p -> p.name.startsWith("tserver-")).count();
        int rpc = freePort();
        int web = freePort();
        String name = "tserver-" + index;
        List<String> cmd = new ArrayList<>(List.of(binary.tserver().toString(), "--fs_wal_dir=" + dataDir.resolve(name),
                "--rpc_bind_addresses=127.0.0.1:" + rpc, "--webserver_port=" + web, "--tserver_master_addrs=" + masterRpc));
        cmd.addAll(common());
        cmd.addAll(tserverExtra);
        Proc p = new Proc(name, "127.0.0.1:" + rpc, "127.0.0.1:" + web, cmd);
        procs.add(p);
        launch(p);
        return p;
    }

    private void launch(Proc p) throws ConnectorException {
        ProcessBuilder pb = new ProcessBuilder(p.command);
        binary.applyEnvironment(pb.environment());
        pb.redirectErrorStream(true);
        pb.redirectOutput(dataDir.resolve("logs").resolve(p.name + ".out").toFile());
        try {
            p.process = pb.start();
            LOG.info("started " + p.name + " pid " + p.process.pid() + " rpc " + p.rpc + " web " + p.web);
        } catch (IOException e) {
            throw new ConnectorException(Engine.KUDU, "start " + p.name, e.getMessage(), false, e);
        }
    }

    void awaitLive(int tservers, long timeoutMillis) throws ConnectorException {
        KuduCli cli = new KuduCli(binary, masterRpc);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        String last = "no answer yet";
        while (System.nanoTime() < deadline) {
            for (Proc p : procs) {
                if (!p.isAlive()) {
                    throw new ConnectorException(Engine.KUDU, "start a local cluster", p.name + " exited at start: "
                            + tail(dataDir.resolve("logs").resolve(p.name + ".out")) + " (logs kept in " + dataDir.resolve("logs") + ")");
                }
            }
            // The CLI, not the web UI: it works the same behind TLS or SPNEGO, with the binary's environment.
            // "heartbeat" is "Nms" since the last one (ListTServers in Kudu's tool_action_tserver.cc).
            KuduCli.Result r = cli.run(15_000, "tserver", "list", "@MASTERS", "--columns=uuid,heartbeat", "--format=json", "--timeout_ms=3000");
            if (r.ok()) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"heartbeat\":\"(\\d+)ms\"").matcher(r.out());
                long live = 0;
                while (m.find()) {
                    live += Long.parseLong(m.group(1)) < 3_000 ? 1 : 0;
                }
                if (live >= tservers) {
                    return;
                }
                last = live + " of " + tservers + " tablet servers live";
            } else {
                last = r.error();
            }
            pause(200);
        }
        throw new ConnectorException(Engine.KUDU, "start a local cluster", "not ready within " + timeoutMillis / 1000 + " s: " + last);
    }

    /** Waits between polls of a process that is starting; nothing else to wait on. */
    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public String masterAddresses() {
        return masterRpc;
    }

    public String masterWebAddress() {
        return masterWeb;
    }

    /** Every master's web address. */
    public List<String> masterWebAddresses() {
        return masterWebs;
    }

    /** The master processes, for fault tests (a leader master killed mid-run). */
    public synchronized List<Proc> masters() {
        return procs.stream().filter(p -> p.name.startsWith("master-")).toList();
    }

    public Path dataDir() {
        return dataDir;
    }

    public KuduBinary binary() {
        return binary;
    }

    synchronized List<Proc> allProcs() {
        return List.copyOf(procs);
    }

    public synchronized List<Proc> tservers() {
        return procs.stream().filter(p -> p.name.startsWith("tserver-")).toList();
    }

    /** Fills the cluster with demo tables through {@code kudu perf loadgen}: one table per entry, with rows. */
    public void loadTables(int[] hashPartitions, int rowsPerTable, int replicas) throws ConnectorException {
        KuduCli cli = new KuduCli(binary, masterRpc);
        for (int parts : hashPartitions) {
            cli.check(300_000, "load a demo table", "perf", "loadgen", "@MASTERS", "--keep_auto_table",
                    "--table_num_hash_partitions=" + parts, "--table_num_replicas=" + replicas,
                    "--num_threads=1", "--num_rows_per_thread=" + rowsPerTable);
        }
    }

    /**
     * Waits until every tablet's MemRowSet on every tablet server is flushed to disk ({@code memrowset_size}
     * in each tserver's {@code /metrics} under 1 MB; Kudu flushes a non-empty one after
     * {@code --flush_threshold_secs}, 120 s by default), so that data is read from disk as on a cluster that
     * has been up a while. Returns the seconds it took; fails after {@code timeoutMillis}.
     */
    public double awaitFlushed(long timeoutMillis) throws ConnectorException {
        long t0 = System.nanoTime();
        okhttp3.OkHttpClient http = new okhttp3.OkHttpClient.Builder().connectTimeout(java.time.Duration.ofSeconds(3))
                .readTimeout(java.time.Duration.ofSeconds(10)).build();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        while (System.nanoTime() - t0 < timeoutMillis * 1_000_000L) {
            long inMemory = 0;
            for (Proc ts : tservers()) {
                String url = "http://" + ts.webAddress() + "/metrics?types=tablet&metrics=memrowset_size&compact=1";
                try (okhttp3.Response r = http.newCall(new okhttp3.Request.Builder().url(url).build()).execute()) {
                    if (r.body() == null) {
                        continue;
                    }
                    for (com.fasterxml.jackson.databind.JsonNode t : json.readTree(r.body().byteStream())) {
                        for (com.fasterxml.jackson.databind.JsonNode m : t.path("metrics")) {
                            inMemory = Math.max(inMemory, m.path("value").asLong());
                        }
                    }
                } catch (java.io.IOException e) {
                    inMemory = Long.MAX_VALUE; // busy: look again
                }
            }
            if (inMemory < 1_000_000) {
                return (System.nanoTime() - t0) / 1e9;
            }
            try {
                TimeUnit.SECONDS.sleep(2); // polling the servers' metrics
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectorException(Engine.KUDU, "wait for flushes", "interrupted", false, e);
            }
        }
        throw new ConnectorException(Engine.KUDU, "wait for flushes", "the tablets were not flushed within " + timeoutMillis / 1000 + " s");
    }

    /** Gracefully stops the tablet server with this RPC address (SIGTERM) and waits for it to exit. */
    @Override
    public void stop(String rpcAddress) throws ConnectorException {
        Proc p = byRpc(rpcAddress);
        terminate(p, false);
    }

    /** Kills the tablet server with this RPC address at once (SIGKILL), for fault tests. */
    public void kill(String rpcAddress) throws ConnectorException {
        terminate(byRpc(rpcAddress), true);
    }

    /** Starts a stopped or killed server of this cluster again, as systemd would, with its data. */
    public void restart(String rpcAddress) throws ConnectorException {
        Proc p = byRpc(rpcAddress);
        if (!p.isAlive()) {
            launch(p);
        }
    }

    @Override
    public boolean controls(String rpcAddress) {
        return procs.stream().anyMatch(p -> p.rpc.equals(rpcAddress));
    }

    private synchronized Proc byRpc(String rpcAddress) throws ConnectorException {
        return procs.stream().filter(p -> p.rpc.equals(rpcAddress)).findFirst().orElseThrow(() ->
                new ConnectorException(Engine.KUDU, "stop " + rpcAddress, "not a server of this local cluster"));
    }

    private static void terminate(Proc p, boolean hard) {
        Process proc = p.process;
        if (proc == null || !proc.isAlive()) {
            return;
        }
        if (hard) {
            proc.destroyForcibly();
        } else {
            proc.destroy();
        }
        try {
            if (!proc.waitFor(15, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                proc.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            proc.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        LOG.info((hard ? "killed " : "stopped ") + p.name + " (" + p.rpc + ")");
    }

    private synchronized void stopAll() {
        List<Proc> all = new ArrayList<>(procs);
        Collections.reverse(all); // tablet servers first, the master last
        for (Proc p : all) {
            terminate(p, false);
        }
    }

    /** Stops every process this cluster started; deletes a temporary data directory. Idempotent. */
    @Override
    public void close() {
        stopAll();
        if (!detached) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down; the hook runs anyway
            }
        }
        if (deleteOnClose && !keepDataDir) {
            try (Stream<Path> s = Files.walk(dataDir)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                LOG.log(Level.FINE, "could not delete " + dataDir, e);
            }
        }
    }

    /** The last meaningful line of a server's output, for error messages. */
    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= 0; i--) {
                String l = lines.get(i).strip();
                if (!l.isEmpty() && !l.startsWith("*** ") && !l.startsWith("@ ")) {
                    return l;
                }
            }
            return "no output";
        } catch (IOException e) {
            return "no output";
        }
    }

    private static final Random PORTS = new Random();
    private final Set<Integer> taken = new HashSet<>();

    /**
     * A free loopback port below Linux's ephemeral range (32768+): a port the kernel hands out for
     * outgoing connections (the servers make many) could be taken again before the server binds it.
     */
    private synchronized int freePort() throws ConnectorException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = 20_000 + PORTS.nextInt(12_000);
            if (!taken.add(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException e) {
                // in use: try another
            }
        }
        throw new ConnectorException(Engine.KUDU, "find a free port", "no free port in 20000-31999 on 127.0.0.1");
    }

    /** Environment map for tools that run next to the cluster. */
    public Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        binary.applyEnvironment(env);
        return env;
    }
}
