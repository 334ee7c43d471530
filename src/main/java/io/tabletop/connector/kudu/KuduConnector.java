package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Apache Kudu 1.17 through its own tools: topology from the leader master's {@code /dump-entities},
 * server states and locations from {@code kudu tserver list}, replication factors, sizes and health from
 * {@code kudu cluster ksck}; every change through the {@code kudu} CLI (research/kudu.md §2).
 *
 * <p>ksck reports a tablet stuck with more voters than its replication factor as HEALTHY (research
 * §5.3); this connector compares voters with the replication factor itself, reports it, and repairs it
 * with a leader step-down at every health gate and after every failed move. Thread-safe.
 */
public final class KuduConnector implements ClusterConnector {
    private static final Logger LOG = Logger.getLogger(KuduConnector.class.getName());
    /** Made at the first parse, not when the connection opens: the first reads start before Jackson's set-up. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }
    private static final long CLI_TIMEOUT = 120_000;
    private static final long MOVE_TIMEOUT = 900_000;
    /** ksck as every read and every health gate runs it. */
    private static final String[] KSCK = {"cluster", "ksck", "@MASTERS", "--ksck_format=json_compact", "--timeout_ms=15000"};
    /** A destination silent this long (heartbeats come every second) is taken for dead during a move. */
    static final long DEAD_AFTER_MILLIS = 10_000;
    /** How often moves and leader transfers look at the master for their progress, at most. */
    private static final long POLL_MILLIS = 50;

    /** Stops tablet server processes: the local launcher does; for a remote cluster the operator does. */
    public interface ServerControl {
        void stop(String rpcAddress) throws ConnectorException;

        boolean controls(String rpcAddress);
    }

    private final String name;
    private final KuduCli cli;
    private final KuduMasterHttp http;
    private final ServerControl control;
    private final EngineCapabilities caps = EngineCapabilities.kudu();
    private final Object ksckLock = new Object();
    private JsonNode lastKsck;
    private int lastKsckRc;
    private long lastKsckNanos;
    /** Steps started through this connector; a ksck from before one never answers for health after it. */
    private final java.util.concurrent.atomic.AtomicLong stepsStarted = new java.util.concurrent.atomic.AtomicLong();
    private long lastKsckSteps = -1;
    /** Each master's web address by its RPC address, where known: to find the masters that answer. */
    private volatile Map<String, String> webByRpc = Map.of();
    /**
     * Moves and leader transfers as calls to the tablet leader's consensus service, from this process. Made
     * at the first call ({@link #consensus()}): loading the Kudu client's classes is not on the way to the
     * first read of the cluster.
     */
    private volatile KuduConsensus consensus;
    private final String consensusMasters;
    private final KuduKerberos kerberos;
    private volatile boolean cliOnly;
    private final Object byRpcLock = new Object();
    private final AtomicBoolean probeStarted = new AtomicBoolean();
    /** Done once decided (before the first move's audit record): true for calls, false for the CLI. */
    private final CompletableFuture<Boolean> decided = new CompletableFuture<>();
    /** The catalog the last snapshot read: the probe of {@link #byRpc} asks one of its tablets' leaders. */
    private volatile JsonNode readDump;
    /** Set by {@link #close}, under this object's lock, which {@link #consensus} takes to make its client. */
    private boolean closed;
    private volatile long mastersCheckedAt = System.nanoTime() - TimeUnit.MINUTES.toNanos(1);
    private final String allMasters;
    /** The same, one RPC address each. */
    private final List<String> masterList;
    private final Object pollLock = new Object();
    private JsonNode polled;
    private long polledAt;
    private long pollFetchNanos;

    public KuduConnector(String masters, List<String> masterWebAddresses, KuduBinary binary, ServerControl control) {
        this(masters, new KuduMasterHttp(masterWebAddresses, binary.kerberos()), binary, control);
    }

    /** The masters' web UIs over TLS, verified against the certificates in {@code webCa}. */
    public KuduConnector(String masters, List<String> masterWebAddresses, KuduBinary binary, ServerControl control, Path webCa)
            throws ConnectorException {
        this(masters, KuduMasterHttp.withCa(masterWebAddresses, binary.kerberos(), webCa), binary, control);
    }

    private KuduConnector(String masters, KuduMasterHttp http, KuduBinary binary, ServerControl control) {
        this.name = "kudu://" + masters;
        this.allMasters = masters;
        this.masterList = List.of(masters.split(","));
        this.cli = new KuduCli(binary, masters);
        this.http = http;
        this.consensusMasters = masters;
        this.kerberos = binary.kerberos();
        this.control = control;
    }

    /** A connector to a local cluster started by {@link LocalKuduCluster}, which also stops its servers. */
    public static KuduConnector local(LocalKuduCluster c) {
        KuduConnector k = new KuduConnector(c.masterAddresses(), c.masterWebAddresses(), c.binary(), c);
        List<String> rpcs = List.of(c.masterAddresses().split(","));
        Map<String, String> pairs = new java.util.LinkedHashMap<>();
        for (int i = 0; i < rpcs.size() && i < c.masterWebAddresses().size(); i++) {
            pairs.put(rpcs.get(i), c.masterWebAddresses().get(i));
        }
        k.knowMasters(pairs);
        return k;
    }

    /** Where each master's web UI is, by its RPC address, so that masters that are down can be left out of CLI calls. */
    void knowMasters(Map<String, String> webByRpc) {
        this.webByRpc = Map.copyOf(webByRpc);
    }

    /**
     * The masters of the spec that do not answer now: no web UI known for them (a master that was down
     * when Tabletop connected reports none; asked again here), or {@code /healthz} does not answer.
     */
    List<String> mastersDown() {
        List<String> all = masterList;
        if (all.size() < 2) {
            return List.of();
        }
        if (!webByRpc.keySet().containsAll(all)) {
            try {
                Map<String, String> found = new java.util.LinkedHashMap<>(webByRpc);
                found.putAll(KuduProvider.webAddresses(cli));
                webByRpc = Map.copyOf(found);
            } catch (ConnectorException e) {
                LOG.fine("master list: " + e.getMessage());
            }
        }
        Map<String, String> webs = webByRpc;
        return all.stream().filter(m -> !webs.containsKey(m) || !http.answers(webs.get(m))).toList();
    }

    /**
     * Kudu's tools check every master they are given (a per-move ksck fails with "1 of 3 had errors"
     * while one is down): points the CLI at the masters that answer while they are a majority, and back
     * at all of them once every one answers. Logged and said on the step.
     */
    private void leaveOutMastersThatAreDown(java.util.function.Consumer<String> say) {
        List<String> all = masterList;
        if (all.size() < 2) {
            return;
        }
        mastersCheckedAt = System.nanoTime();
        List<String> down = mastersDown();
        List<String> up = all.stream().filter(m -> !down.contains(m)).toList();
        String next = down.isEmpty() ? allMasters : String.join(",", up);
        if (up.size() * 2 > all.size() && !next.equals(cli.masters())) {
            String msg = down.isEmpty() ? "every master answers again" : "master(s) " + String.join(", ", down)
                    + " do not answer; the kudu CLI goes on with " + next;
            LOG.warning(msg);
            say.accept(msg);
            cli.useMasters(next);
        }
    }

    /**
     * Before a read: looks again which masters answer when it last looked more than 5 s ago, so that
     * ksck and the listings go to the masters that answer (and to all once every one answers).
     */
    private void followMasters() {
        if (allMasters.indexOf(',') > 0 && System.nanoTime() - mastersCheckedAt > TimeUnit.SECONDS.toNanos(5)) {
            leaveOutMastersThatAreDown(msg -> { });
        }
    }

    /** A WARN, before a run, for each master that does not answer: the run goes on with the others. */
    @Override
    public List<CheckResult> engineChecks(ClusterSnapshot predicted, List<ServerId> removed) {
        List<String> all = masterList;
        if (all.size() < 2) {
            return List.of();
        }
        List<String> down = mastersDown();
        if (down.isEmpty()) {
            return List.of(CheckResult.pass("Masters", "all " + all.size() + " masters answer"));
        }
        return List.of(new CheckResult("Masters", down.size() * 2 < all.size() ? Verdict.WARN : Verdict.BLOCK,
                "master(s) " + String.join(", ", down) + " do not answer; " + (all.size() - down.size()) + " of " + all.size()
                        + (down.size() * 2 < all.size() ? " do, and the run goes on with them. Unregistering a tserver waits until every master answers"
                        : " do: no majority, Kudu cannot elect a leader master")));
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * The cluster's lock key: its masters as given to the connector (not those that answer now), in one order
     * and one spelling ({@link #canonicalMasters}), so that the same cluster typed another way is the same lock.
     */
    @Override
    public String lockKey(String cluster) {
        return engine().wireName() + ":" + canonicalMasters(allMasters);
    }

    /**
     * Master addresses in one form: "kudu://" dropped, each address trimmed and lower-cased, a missing port
     * made Kudu's default 7051, sorted, duplicates dropped, joined by commas.
     */
    public static String canonicalMasters(String masters) {
        String m = masters.strip();
        if (m.regionMatches(true, 0, "kudu://", 0, 7)) {
            m = m.substring(7);
        }
        return Arrays.stream(m.split(",")).map(a -> a.strip().toLowerCase(java.util.Locale.ROOT)).filter(a -> !a.isEmpty())
                .map(a -> a.matches(".*:\\d+") ? a : a + ":7051").sorted().distinct().collect(Collectors.joining(","));
    }

    @Override
    public Engine engine() {
        return Engine.KUDU;
    }

    @Override
    public EngineCapabilities capabilities() {
        return caps;
    }

    public KuduCli cli() {
        return cli;
    }

    // ---- reading --------------------------------------------------------------------------------

    @Override
    public ClusterSnapshot snapshot() throws ConnectorException {
        followMasters();
        // ksck and the tserver list are CLI processes that mostly wait for the masters: both start first, side
        // by side, and the masters' catalog is fetched over HTTP while they run.
        Reader<Map<String, JsonNode>> listing = new Reader<>("tabletop-kudu-tserver-list", this::tserverList);
        Reader<Ksck> checking = new Reader<>("tabletop-kudu-ksck", () -> ksck(SNAPSHOT_KSCK_AGE));
        JsonNode dump;
        JsonNode ksck;
        Map<String, JsonNode> listed;
        try {
            dump = http.dumpEntities(); // an unreachable master fails here, and the two processes are stopped
            if (!decided.isDone()) {
                readDump = dump; // for the probe only: a large cluster's catalog is not kept once it has decided
            }
            ksck = checking.get().json;
            listed = listing.get();
        } finally {
            checking.stop();
            listing.stop();
        }
        java.util.Set<String> unsized = KuduTopology.unsized(dump, ksck);
        Map<String, Long> fromMetrics = unsized.isEmpty() ? Map.of() : sizesFromMetrics(dump, unsized);
        return KuduTopology.read(dump, listed, ksck, fromMetrics, cli.masters(), Instant.now());
    }

    /**
     * Replicas per tablet server uuid as the leader master's {@code /dump-entities} has them now: one light HTTP
     * read, for watching a drain from outside (a benchmark watching Kudu's rebalancer).
     */
    public Map<String, Integer> replicasPerTserver() throws ConnectorException {
        Map<String, Integer> out = new HashMap<>();
        for (JsonNode t : http.dumpEntities().path("tablets")) {
            for (JsonNode r : t.path("replicas")) {
                out.merge(r.path("server_uuid").asText(), 1, Integer::sum);
            }
        }
        return out;
    }

    private static final String TABLET_SIZES = "/metrics?types=tablet&metrics=on_disk_size&compact=1";

    /**
     * Sizes ksck did not give, from each live tserver's own metrics ({@code on_disk_size} of the replicas
     * the masters place on it; tombstones left out); a tablet's size is its largest replica's. A tserver
     * whose web UI does not answer is skipped: its tablets keep the size of another replica, or none.
     */
    Map<String, Long> sizesFromMetrics(JsonNode dump, java.util.Set<String> tablets) {
        Map<String, Long> out = new HashMap<>();
        for (JsonNode ts : dump.path("tablet_servers")) {
            String web = ts.path("http_addrs").path(0).asText("");
            if (web.isEmpty() || !ts.path("live").asBoolean(true)) {
                continue;
            }
            try {
                // metrics in another shape: no sizes from this tserver, as when it does not answer
                KuduTopology.readReplicasOn(http.getFrom(web, TABLET_SIZES), dump, ts.path("uuid").asText()).ifPresent(r ->
                        r.live().forEach((tablet, size) -> {
                            if (tablets.contains(tablet)) {
                                out.merge(tablet, size, Math::max);
                            }
                        }));
            } catch (ConnectorException e) {
                LOG.fine("tablet sizes from " + web + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** Tombstoned replicas found on each drained tserver just before it stopped. */
    private final Map<ServerId, long[]> tombstones = new java.util.concurrent.ConcurrentHashMap<>();

    /** Counts the tombstones on a tserver that is about to stop: after that its web UI is gone. */
    private void noteTombstones(ServerId id, JsonNode ts) {
        String web = ts.path("http_addrs").path(0).asText("");
        if (web.isEmpty()) {
            return;
        }
        try {
            KuduTopology.readReplicasOn(http.getFrom(web, TABLET_SIZES), http.dumpEntities(), id.value())
                    .ifPresent(r -> tombstones.put(id, new long[]{r.tombstoned().size()})); // their on_disk_size is stale: not reported
        } catch (ConnectorException e) {
            LOG.fine("tombstones on " + web + ": " + e.getMessage());
        }
    }

    /**
     * After a drain: the tombstoned replicas each drained tserver kept (metadata of the replicas moved away;
     * Kudu before 1.18 never deletes them, KUDU-3486), with what to do before the host serves again.
     */
    @Override
    public List<CheckResult> engineChecksAfter(List<ServerId> removed) throws ConnectorException {
        List<CheckResult> out = new ArrayList<>();
        for (ServerId id : removed) {
            long[] t = tombstones.get(id);
            if (t == null) {
                Optional<JsonNode> ts = tserver(id);
                if (ts.isEmpty() || !ts.get().path("live").asBoolean(true)) {
                    continue;
                }
                noteTombstones(id, ts.get());
                t = tombstones.get(id);
                if (t == null) {
                    continue;
                }
            }
            // PASS: nothing is wrong with the cluster; this is what to do with the host.
            out.add(CheckResult.pass("Tombstones", t[0] == 0 ? id + " kept no tombstoned replica"
                    : id + " keeps " + t[0] + " tombstoned replica(s): metadata of the replicas moved away, no data of the cluster "
                    + "(Kudu before 1.18 never deletes them, KUDU-3486). Keep the process stopped; before the host serves again, "
                    + "wipe its --fs_wal_dir and --fs_data_dirs (a restart as it is would register it again with them)"));
        }
        return out;
    }

    private Map<String, JsonNode> tserverList() throws ConnectorException {
        String out = cli.check(CLI_TIMEOUT, "list tablet servers", "tserver", "list", "@MASTERS",
                "--columns=uuid,rpc-addresses,location,state,heartbeat", "--format=json");
        return byUuid(parse(out, "kudu tserver list"));
    }

    /** {@code kudu tserver list --format=json}'s rows by uuid; anything but an array of objects is refused. */
    static Map<String, JsonNode> byUuid(JsonNode list) throws ConnectorException {
        if (list == null || !list.isArray()) {
            throw new ConnectorException(Engine.KUDU, "list tablet servers", "kudu tserver list's JSON is not an array", false, null);
        }
        Map<String, JsonNode> byUuid = new HashMap<>();
        for (JsonNode n : list) {
            if (n.isObject()) {
                byUuid.put(n.path("uuid").asText(), n);
            }
        }
        return byUuid;
    }

    private record Ksck(int rc, JsonNode json) {
    }

    /** A read on its own thread; {@link #stop} interrupts it (which ends a CLI process it runs) and waits for it. */
    private static final class Reader<T> {
        interface Read<T> {
            T read() throws ConnectorException;
        }

        private final java.util.concurrent.CompletableFuture<T> result = new java.util.concurrent.CompletableFuture<>();
        private final Thread thread;

        Reader(String name, Read<T> read) {
            thread = new Thread(() -> {
                try {
                    result.complete(read.read());
                } catch (ConnectorException | RuntimeException e) {
                    result.completeExceptionally(e);
                }
            }, name);
            thread.setDaemon(true);
            thread.start();
        }

        T get() throws ConnectorException {
            try {
                return result.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof ConnectorException ce) {
                    throw ce;
                }
                throw e;
            }
        }

        void stop() {
            if (!result.isDone()) {
                thread.interrupt();
            }
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Snapshots (sizes and replication factors) take a ksck this recent: a refresh that asks for health first runs one. */
    private static final Duration SNAPSHOT_KSCK_AGE = Duration.ofSeconds(1);

    private Ksck ksck(boolean fresh) throws ConnectorException {
        return ksck(fresh ? Duration.ZERO : SNAPSHOT_KSCK_AGE);
    }

    /**
     * ksck as JSON: the last one when it began under {@code maxAge} ago and no step has started since,
     * else a new one.
     */
    private Ksck ksck(Duration maxAge) throws ConnectorException {
        synchronized (ksckLock) {
            if (lastKsck != null && System.nanoTime() - lastKsckNanos < maxAge.toNanos() && lastKsckSteps == stepsStarted.get()) {
                return new Ksck(lastKsckRc, lastKsck);
            }
            long began = System.nanoTime();
            long steps = stepsStarted.get();
            KuduCli.Result r = cli.run(CLI_TIMEOUT, KSCK);
            String out = r.out().strip();
            int brace = out.indexOf('{');
            if (brace < 0) {
                throw new ConnectorException(Engine.KUDU, "cluster ksck", r.error(), KuduCli.isTransient(r.error()), null);
            }
            int end = out.lastIndexOf('}');
            JsonNode json = parse(out.substring(brace, end + 1), "kudu cluster ksck");
            lastKsck = json;
            lastKsckRc = r.rc();
            lastKsckNanos = began;
            lastKsckSteps = steps;
            return new Ksck(r.rc(), json);
        }
    }

    static JsonNode parse(String text, String what) throws ConnectorException {
        try {
            return Json.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new ConnectorException(Engine.KUDU, what, "output is not the JSON expected: " + e.getMessage(), false, e);
        }
    }

    /** Always a fresh ksck: a health verdict must never be older than the question. */
    /**
     * Tablet servers in maintenance mode that {@code own} does not name: another run, from this machine or
     * another, or an operator's {@code kudu tserver state enter_maintenance}, is draining them, and a second
     * drain beside it moves replicas onto the server the other empties. Read from the snapshot's tserver
     * states (the master's {@code tserver list -columns=state}), so it costs no call of its own.
     */
    @Override
    public List<String> otherOperations(ClusterSnapshot snapshot, java.util.Collection<ServerId> own) {
        return maintenanceBySomeoneElse(snapshot, own);
    }

    static List<String> maintenanceBySomeoneElse(ClusterSnapshot snapshot, java.util.Collection<ServerId> own) {
        List<String> out = new ArrayList<>();
        for (var s : snapshot.servers()) {
            if (s.state() == io.tabletop.domain.ServerState.MAINTENANCE && !own.contains(s.id())) {
                out.add("tablet server " + s.id() + " (" + s.address() + ") is in maintenance mode, which this run did not set: "
                        + "another run or an operator is draining it (kudu tserver state exit_maintenance ends it, once that is done)");
            }
        }
        return out;
    }

    @Override
    public HealthReport health() throws ConnectorException {
        return health(Duration.ZERO);
    }

    /** The ksck a snapshot ran moments before serves, when no step has started since (ZERO: always a new one). */
    @Override
    public HealthReport health(Duration maxAge) throws ConnectorException {
        followMasters();
        http.dumpEntities(); // 16 ms: an unreachable master fails here at once, not after ksck's timeouts
        return health(ksck(maxAge));
    }

    private HealthReport health(Ksck k) throws ConnectorException {
        return KuduKsck.read(k.rc(), k.json());
    }

    static List<String> overReplicatedIds(JsonNode ksck) {
        return KuduKsck.overReplicatedIds(ksck);
    }

    /** Rows per table name by an exact scan ({@code kudu table scan --row_count_only}). */
    @Override
    public Optional<Map<String, Long>> rowCounts() throws ConnectorException {
        List<String> tables = new ArrayList<>();
        http.dumpEntities().path("tables").forEach(t -> tables.add(t.path("table_name").asText()));
        return Optional.of(countRows(tables));
    }

    /** The snapshot's tables, by name, without listing them again. */
    @Override
    public Optional<Map<String, Long>> rowCounts(ClusterSnapshot justRead) throws ConnectorException {
        return Optional.of(countRows(justRead.tables().stream().map(io.tabletop.domain.Table::name).toList()));
    }

    @Override
    public boolean canAddServer() {
        return control instanceof LocalKuduCluster;
    }

    /** A local cluster Tabletop started: one more tablet server, which registers with the master by itself. */
    @Override
    public String addServer() throws ConnectorException {
        if (!(control instanceof LocalKuduCluster local)) {
            return ClusterConnector.super.addServer();
        }
        LocalKuduCluster.Proc p = local.addTServer();
        local.awaitLive((int) local.tservers().stream().filter(LocalKuduCluster.Proc::isAlive).count(), 60_000);
        return p.rpcAddress();
    }

    /** Tables counted at once: each count is a CLI process that mostly waits for the tablet servers. */
    private static final int PARALLEL_COUNTS = 4;

    /**
     * Counts the tables' rows, up to {@link #PARALLEL_COUNTS} tables at a time, each at a lower CPU priority:
     * the counts go on beside the pre-check and the run's first steps (the moves wait for them), and on a
     * small machine three scans at full priority made those 0.3-0.5 s slower.
     */
    private Map<String, Long> countRows(List<String> tables) throws ConnectorException {
        Map<String, Long> out = new java.util.concurrent.ConcurrentSkipListMap<>();
        if (tables.isEmpty()) {
            return out;
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(Math.min(PARALLEL_COUNTS, tables.size()), r -> {
            Thread t = new Thread(r, "tabletop-kudu-count");
            t.setDaemon(true);
            return t;
        });
        try {
            List<java.util.concurrent.Future<?>> counts = new ArrayList<>();
            for (String table : tables) {
                counts.add(pool.submit(() -> {
                    out.put(table, countRows(table));
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : counts) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof ConnectorException ce) {
                        throw ce;
                    }
                    throw new ConnectorException(Engine.KUDU, "count rows", String.valueOf(e.getCause()), false, e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ConnectorException(Engine.KUDU, "count rows", "interrupted", true, e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return new TreeMap<>(out);
    }

    private long countRows(String table) throws ConnectorException {
        String text = cli.checkInBackground(CLI_TIMEOUT, "count rows of " + table, "table", "scan", "@MASTERS", table, "--row_count_only");
        Matcher m = Pattern.compile("Total count (\\d+)").matcher(text);
        if (!m.find()) {
            throw new ConnectorException(Engine.KUDU, "count rows of " + table, "unexpected output: " + text.strip());
        }
        return Long.parseLong(m.group(1));
    }

    // ---- acting -----------------------------------------------------------------------------------

    /**
     * The {@code kudu} CLI arguments a step runs ({@code @MASTERS} stands for the master addresses), or null
     * for a step that is no CLI call (stopping a process). One list feeds both the execution and the audit
     * record, so the audit says exactly what ran.
     */
    String[] args(Step s) {
        return switch (s.type()) {
            case HEALTH_GATE -> KSCK;
            case ENTER_MAINTENANCE -> new String[]{"tserver", "state", "enter_maintenance", "@MASTERS", s.server().value()};
            case EXIT_MAINTENANCE -> new String[]{"tserver", "state", "exit_maintenance", "@MASTERS", s.server().value()};
            case TRANSFER_LEADER -> new String[]{"tablet", "leader_step_down", "@MASTERS", s.partition().value(), "--new_leader_uuid=" + s.to().value()};
            case MOVE_REPLICA -> new String[]{"tablet", "change_config", "move_replica", "@MASTERS", s.partition().value(), s.from().value(), s.to().value()};
            case UNREGISTER_SERVER -> new String[]{"tserver", "unregister", "@ALL_MASTERS", s.server().value(), "--force_unregister_live_tserver"};
            case ENGINE_REBALANCE -> new String[]{"cluster", "rebalance", "@MASTERS",
                    "--ignored_tservers=" + s.servers().stream().map(ServerId::value).collect(Collectors.joining(",")),
                    "--move_replicas_from_ignored_tservers", "--max_moves_per_server=" + caps.maxMovesPerServer()};
            case STOP_SERVER, FAILOVER -> null;
        };
    }

    /** A leader step-down without a chosen successor: how an interrupted move's extra voter is evicted (research §5.3). */
    private static String[] repairArgs(String tablet) {
        return new String[]{"tablet", "leader_step_down", "@MASTERS", tablet};
    }

    private String line(String[] args) {
        return "kudu " + String.join(" ", Arrays.stream(args).map(a -> a.equals("@MASTERS") ? cli.masters() : a).toList());
    }

    @Override
    public String command(Step s) {
        if ((s.type() == StepType.MOVE_REPLICA || s.type() == StepType.TRANSFER_LEADER) && byRpc()) {
            return rpcLine(s);
        }
        String[] a = args(s);
        if (s.type() == StepType.FAILOVER) {
            return "kudu: no graceful failover (" + s.describe() + ")";
        }
        return a == null ? "stop the kudu-tserver process " + s.server() : line(a);
    }

    /**
     * Builds Kudu's client, connects to a tablet leader and decides between calls and the CLI
     * ({@link #byRpc}) on a thread of its own: in a new process that takes 0.7 s, which the first move
     * waited for. Started by the pre-check (after the read, whose catalog names the leader to ask), it runs
     * while the plan is made and the run starts.
     */
    @Override
    public void prepareSteps() {
        if (probeStarted.compareAndSet(false, true)) {
            Thread t = new Thread(this::byRpc, "tabletop-kudu-calls");
            t.setDaemon(true);
            t.start();
        }
    }

    @Override
    public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        if (!cli.masters().equals(allMasters)) {
            leaveOutMastersThatAreDown(progress::log); // the full list again once every master answers
        }
        stepsStarted.incrementAndGet();
        prepareSteps(); // where no pre-check asked for it: decided while the first steps run
        try {
            run(step, progress);
        } catch (ConnectorException e) {
            String why = e.reason();
            if (why.contains("masters") && (why.contains("had errors") || why.contains("Could not connect"))) {
                leaveOutMastersThatAreDown(progress::log); // the retry goes to the masters that answer
            }
            throw e;
        }
    }

    private void run(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        switch (step.type()) {
            case HEALTH_GATE -> gate(progress);
            case ENTER_MAINTENANCE -> cli.check(CLI_TIMEOUT, "enter maintenance " + step.server(), args(step));
            case EXIT_MAINTENANCE -> cli.check(CLI_TIMEOUT, "exit maintenance " + step.server(), args(step));
            case TRANSFER_LEADER -> {
                if (byRpc()) {
                    transferLeaderByRpc(step, progress);
                } else {
                    transferLeader(step, progress);
                }
            }
            case MOVE_REPLICA -> {
                if (byRpc()) {
                    moveByRpc(step, progress);
                } else {
                    moveReplica(step, progress);
                }
            }
            case STOP_SERVER -> stopServer(step, progress);
            case UNREGISTER_SERVER -> unregister(step, progress);
            case ENGINE_REBALANCE -> engineDrain(step, progress);
            case FAILOVER -> throw new ConnectorException(Engine.KUDU, step.describe(), "Kudu has no graceful failover; drain the tserver instead");
        }
    }

    /** ksck must pass; tablets with too many voters are repaired first (research §5.3). */
    private void gate(StepProgress progress) throws ConnectorException, InterruptedException {
        progress.update(0.1, "kudu cluster ksck");
        long began = System.nanoTime();
        Ksck k = ksck(true);
        long took = System.nanoTime() - began;
        // A tablet whose extra voter sits on a tserver that is down is left to Kudu: a step-down cannot evict it.
        List<String> over = KuduKsck.repairableOverReplicatedIds(k.json);
        if (!over.isEmpty()) {
            progress.update(0.4, "repairing " + over.size() + " tablet(s) with too many voters");
            for (String tablet : over) {
                repairOverReplicated(tablet, progress);
            }
            k = ksck(true);
        }
        HealthReport h = health(k);
        // Right after config changes (leader transfers above all) ksck briefly reports tablets whose replicas'
        // configs disagree with the master's; give the cluster a few seconds to settle before failing.
        // It settles within a heartbeat or two, so look again soon: as often as ksck itself takes (at least every
        // 200 ms, at most every second), which keeps a large cluster's ksck from running back to back.
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (h.verdict() == Verdict.BLOCK && System.nanoTime() < settle && h.details().stream().noneMatch(d -> d.contains("UNAVAILABLE"))) {
            progress.update(0.6, "waiting for the cluster to settle: " + h.summary());
            TimeUnit.NANOSECONDS.sleep(Math.min(TimeUnit.SECONDS.toNanos(1), Math.max(TimeUnit.MILLISECONDS.toNanos(200), took)));
            began = System.nanoTime();
            k = ksck(true);
            took = System.nanoTime() - began;
            h = health(k);
        }
        if (h.verdict() == Verdict.BLOCK || !overReplicatedIds(k.json).isEmpty()) {
            throw new ConnectorException(Engine.KUDU, "health gate", h.summary()
                    + (h.details().isEmpty() ? "" : " (" + String.join("; ", h.details().subList(0, Math.min(3, h.details().size()))) + ")"),
                    true, null);
        }
        progress.update(1, h.summary());
    }

    /**
     * A leader whose own move was interrupted keeps a REPLACE mark it cannot act on; stepping it down lets
     * the master evict the marked replica (research §5.3). Waits until the config is back to RF voters.
     */
    void repairOverReplicated(String tablet, StepProgress progress) throws ConnectorException, InterruptedException {
        progress.action("repair tablet " + tablet + " (more voters than its replication factor): leader step-down, "
                + "so that the master evicts the replaced replica", line(repairArgs(tablet)));
        LOG.warning("tablet " + tablet + " has more voters than its replication factor: leader step-down to let the master evict the replaced replica");
        cli.check(CLI_TIMEOUT, "leader step-down of " + tablet, repairArgs(tablet));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            List<String> still = overReplicatedIds(ksck(true).json);
            if (!still.contains(tablet)) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(500);
        }
        throw new ConnectorException(Engine.KUDU, "repair tablet " + tablet, "still has more voters than its replication factor after a leader step-down", true, null);
    }

    /**
     * The masters' {@code /dump-entities} as the steps in flight poll it: one fetch serves every move and
     * transfer polling within {@link #POLL_MILLIS}, and a catalog that takes long to dump is read at most
     * once per ten times its fetch time, so five moves in flight do not hammer a large cluster's master.
     */
    private JsonNode polledEntities() throws ConnectorException {
        synchronized (pollLock) {
            long start = System.nanoTime();
            long maxAge = Math.max(TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS), 10 * pollFetchNanos);
            if (polled != null && start - polledAt < maxAge) {
                return polled;
            }
            JsonNode dump = http.dumpEntities();
            pollFetchNanos = System.nanoTime() - start;
            polled = dump;
            polledAt = start;
            return dump;
        }
    }

    private Optional<JsonNode> tablet(String id) throws ConnectorException {
        return tablet(http.dumpEntities(), id);
    }

    private static Optional<JsonNode> tablet(JsonNode dump, String id) {
        for (JsonNode t : dump.path("tablets")) {
            if (t.path("tablet_id").asText().equals(id)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    private void transferLeader(Step s, StepProgress progress) throws ConnectorException, InterruptedException {
        String tablet = s.partition().value();
        KuduCli.Result r = cli.run(CLI_TIMEOUT, args(s));
        if (!r.ok() && !r.error().contains("is already the leader")) {
            throw new ConnectorException(Engine.KUDU, "leader step-down of " + tablet, r.error(), KuduCli.isTransient(r.error()), null);
        }
        progress.update(0.5, "waiting for " + s.to() + " to lead");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (tablet(polledEntities(), tablet).map(t -> t.path("leader").asText()).filter(s.to().value()::equals).isPresent()) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS / 2);
        }
        throw new ConnectorException(Engine.KUDU, "leader step-down of " + tablet, s.to() + " did not become leader within 15 s", true, null);
    }

    private void moveReplica(Step s, StepProgress progress) throws ConnectorException, InterruptedException {
        String tablet = s.partition().value();
        progress.update(0.05, "asking the leader to add " + s.to() + " as a non-voter");
        AtomicReference<Process> proc = new AtomicReference<>();
        AtomicReference<String> abandoned = new AtomicReference<>();
        AtomicReference<String> blocked = new AtomicReference<>();
        AtomicBoolean seenDone = new AtomicBoolean();
        KuduCli.Result r = whilePolling(() -> cli.run(MOVE_TIMEOUT, proc::set, args(s)), POLL_MILLIS, () -> {
            JsonNode dump = polledEntities();
            // A destination that stops answering never finishes its copy: move_replica would wait out its
            // own 600 s limit. Give up on it at once; the run re-plans around the dead server.
            JsonNode dest = tserver(dump, s.to()).orElse(null);
            long silent = dest == null ? Long.MAX_VALUE : dest.path("millis_since_heartbeat").asLong(0);
            if (abandoned.get() == null && (dest == null || !dest.path("live").asBoolean(true) || silent > DEAD_AFTER_MILLIS)) {
                abandoned.set(s.to() + " stopped answering (no heartbeat for " + (silent == Long.MAX_VALUE ? "ever" : silent / 1000 + " s")
                        + "); the move was abandoned");
                destroy(proc.get());
                return;
            }
            Optional<JsonNode> t = tablet(dump, tablet);
            if (t.isEmpty()) {
                return;
            }
            // Another copy of the tablet on a tserver that stopped answering: Kudu finishes this move only once it
            // has replaced that copy (the source's REPLACE mark waits for a healthy replacement), up to
            // follower_unavailable_considered_failed_sec later. The move is left to Kudu; the step waits.
            for (JsonNode rep : t.get().path("replicas")) {
                String u = rep.path("server_uuid").asText();
                if (blocked.get() == null && abandoned.get() == null && !u.equals(s.to().value()) && !u.equals(s.from().value())) {
                    if (silent(dump, u)) {
                        blocked.set("tablet " + tablet + " has a copy on " + u + ", which stopped answering; Kudu completes the move once it has replaced that copy");
                        destroy(proc.get());
                        return;
                    }
                }
            }
            String type = null;
            boolean sourceIn = false;
            for (JsonNode rep : t.get().path("replicas")) {
                if (rep.path("server_uuid").asText().equals(s.to().value())) {
                    type = rep.path("type").asText();
                }
                sourceIn |= rep.path("server_uuid").asText().equals(s.from().value());
            }
            if ("NON_VOTER".equals(type)) {
                progress.update(0.4, "copying to " + s.to() + " (non-voter)");
            } else if ("VOTER".equals(type) && sourceIn) {
                progress.update(0.8, "promoted; waiting for " + s.from() + " to leave");
            } else if ("VOTER".equals(type) && seenDone.compareAndSet(false, true)) {
                // The leader committed the new config (the destination a voter, the source gone) and reported it
                // to the master: the move is done. move_replica would only notice at its next poll, up to 500 ms
                // later, and then exit; all it has left to do is wait, so it is stopped here.
                progress.update(0.95, "source left");
                destroy(proc.get());
            }
        });
        if (seenDone.get() && moveDone(s)) {
            return;
        }
        if (r.ok()) {
            return;
        }
        if (abandoned.get() != null) {
            if (moveDone(s)) {
                return;
            }
            throw new ConnectorException(Engine.KUDU, "move replica " + tablet + " " + s.from() + " → " + s.to(), abandoned.get(),
                    ConnectorException.Kind.SERVER_LOST, null);
        }
        if (blocked.get() != null) {
            if (moveDone(s)) {
                return;
            }
            throw new ConnectorException(Engine.KUDU, "move replica " + tablet + " " + s.from() + " → " + s.to(), blocked.get(),
                    ConnectorException.Kind.NOT_YET, null);
        }
        // Any failure, a crash above all, leaves the outcome unknown: read the config again (research §3.2, §5.3).
        if (moveDone(s)) {
            LOG.info("move of " + tablet + " reported '" + r.error() + "' but the config shows it done");
            return;
        }
        // A copy of the tablet on a tserver that misses its heartbeats: ksck refuses the tablet, and a leader
        // step-down cannot repair a config whose extra voter is on it. Kudu sorts it out; the step waits.
        Optional<String> silentCopy = copyOnSilentTserver(tablet, SILENT_COPY_MILLIS);
        if (silentCopy.isPresent()) {
            throw new ConnectorException(Engine.KUDU, "move replica " + tablet + " " + s.from() + " → " + s.to(),
                    "tablet " + tablet + " has a copy on " + silentCopy.get() + ", which does not answer (" + r.error() + ")",
                    ConnectorException.Kind.NOT_YET, null);
        }
        for (String over : KuduKsck.repairableOverReplicatedIds(ksck(true).json)) {
            if (over.equals(tablet)) {
                repairOverReplicated(tablet, progress);
                if (moveDone(s)) {
                    return;
                }
            }
        }
        throw new ConnectorException(Engine.KUDU, "move replica " + tablet + " " + s.from() + " → " + s.to(), r.error(),
                moveFailureKind(r.error()), null);
    }

    /** Stops the Kudu client that the consensus calls use (its threads and connections). */
    @Override
    public void close() {
        KuduConsensus c;
        synchronized (this) {
            closed = true;
            c = consensus;
        }
        if (c != null) {
            c.close();
        }
    }

    private KuduConsensus consensus() {
        KuduConsensus c = consensus;
        if (c == null) {
            synchronized (this) {
                c = consensus;
                if (c == null) {
                    c = new KuduConsensus(consensusMasters, kerberos);
                    if (closed) {
                        c.close(); // made after close() (the background probe): its calls fail, and no client is left open
                    }
                    consensus = c;
                }
            }
        }
        return c;
    }

    // ---- moves as consensus calls --------------------------------------------------------------

    /** Moves and leader transfers through the {@code kudu} CLI only (a test, or a benchmark comparing both). */
    void movesThroughCli() {
        cliOnly = true;
        decided.obtrudeValue(false); // even where a probe already chose calls
    }

    /**
     * Whether moves and leader transfers are calls from this process ({@link KuduConsensus}) rather than one
     * {@code kudu} CLI process each. Decided once, by reading one tablet's consensus state from its leader:
     * a cluster this process cannot call (its Kerberos ticket, a 3-2-3 cluster) keeps the CLI. The audit
     * records whichever it is, before the step runs.
     */
    boolean byRpc() {
        Boolean b = decided.getNow(null);
        if (b != null) {
            return b;
        }
        synchronized (byRpcLock) {
            b = decided.getNow(null);
            if (b != null) {
                return b;
            }
            String why = cliOnly ? "chosen" : probeConsensus();
            if (why != null) {
                LOG.info("moves and leader transfers go through the kudu CLI: " + why);
            }
            readDump = null;
            decided.complete(why == null);
            return why == null;
        }
    }

    /** Completes with {@link #byRpc}'s answer once it is decided (a test waits on it). */
    CompletableFuture<Boolean> decided() {
        return decided;
    }

    /** Null when a tablet leader answered GetConsensusState in the 3-4-3 scheme; else why not. */
    private String probeConsensus() {
        try {
            // any tablet's leader will do: the last read's catalog serves, with no request of its own beside the run's;
            // a tserver that does not answer (it may have died since) is not the cluster's answer: up to three are asked
            JsonNode read = readDump;
            JsonNode dump = read != null ? read : polledEntities();
            java.util.Set<String> asked = new java.util.HashSet<>();
            String failed = null;
            for (JsonNode t : dump.path("tablets")) {
                String leader = t.path("leader").asText("");
                Optional<String> addr = leader.isEmpty() || asked.contains(leader) ? Optional.empty() : rpcAddress(dump, leader);
                if (addr.isEmpty()) {
                    continue;
                }
                asked.add(leader);
                try {
                    KuduConsensus.State st = consensus().state(leader, addr.get(), t.path("tablet_id").asText());
                    return st.prepareBeforeEvict() ? null : "the cluster evicts before it replaces (3-2-3), which the CLI handles";
                } catch (ConnectorException e) {
                    failed = "GetConsensusState failed: " + e.getMessage();
                    if (asked.size() >= 3) {
                        return failed;
                    }
                }
            }
            return failed != null ? failed : "no tablet has a leader to ask";
        } catch (ConnectorException | KuduConsensus.Refused e) {
            return "GetConsensusState failed: " + e.getMessage();
        } catch (RuntimeException e) {
            LOG.log(java.util.logging.Level.FINE, "consensus probe", e);
            return "GetConsensusState failed: " + e;
        }
    }

    private static Optional<String> rpcAddress(JsonNode dump, String uuid) {
        return tserver(dump, ServerId.of(uuid)).map(ts -> ts.path("rpc_addrs").path(0).asText("")).filter(a -> !a.isEmpty());
    }

    /** The audit's words for a move or transfer made by call: the service, the method and what it asks. */
    private String rpcLine(Step s) {
        String t = s.partition().value();
        if (s.type() == StepType.TRANSFER_LEADER) {
            return "kudu rpc ConsensusService.LeaderStepDown tablet_id=" + t + " mode=GRACEFUL new_leader_uuid=" + s.to().value()
                    + " (to the tablet's leader, as `kudu tablet leader_step_down` sends it)";
        }
        return "kudu rpc ConsensusService.BulkChangeConfig tablet_id=" + t + " [MODIFY_PEER " + s.from().value() + " replace=true, ADD_PEER "
                + s.to().value() + " NON_VOTER promote=true] cas_config_opid_index=<committed> (to the tablet's leader, as `kudu tablet "
                + "change_config move_replica` sends it; then LeaderStepDown GRACEFUL if " + s.from().value() + " still leads once "
                + s.to().value() + " votes)";
    }

    /** Retried at once: the leader changed, the config moved on, or the leader is not ready for a change yet. */
    private static boolean retryable(KuduConsensus.Refused r) {
        String m = r.getMessage().toLowerCase(java.util.Locale.ROOT);
        return switch (r.code) {
            case NOT_THE_LEADER, CAS_FAILED, TABLET_NOT_RUNNING, THROTTLED, ALREADY_INPROGRESS, WRONG_SERVER_UUID -> true;
            default -> m.contains("not ready") || m.contains("try again") || m.contains("in progress") || m.contains("pending")
                    || m.contains("not yet committed") || m.contains("not the leader");
        };
    }

    /** A tserver silent past {@link #DEAD_AFTER_MILLIS}, or unknown to the master. */
    private static boolean silent(JsonNode dump, String uuid) {
        JsonNode ts = tserver(dump, ServerId.of(uuid)).orElse(null);
        return ts == null || !ts.path("live").asBoolean(true) || ts.path("millis_since_heartbeat").asLong(0) > DEAD_AFTER_MILLIS;
    }

    private void transferLeaderByRpc(Step s, StepProgress progress) throws ConnectorException, InterruptedException {
        String tablet = s.partition().value();
        String what = "leader step-down of " + tablet;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        boolean asked = false;
        while (System.nanoTime() < deadline) {
            JsonNode dump = asked ? polledEntities() : http.dumpEntities();
            JsonNode t = tablet(dump, tablet).orElseThrow(() -> new ConnectorException(Engine.KUDU, what, "the master lists no tablet " + tablet,
                    ConnectorException.Kind.DRIFT, null));
            String leader = t.path("leader").asText("");
            if (leader.equals(s.to().value())) {
                return;
            }
            if (!asked && !leader.isEmpty()) {
                Optional<String> addr = rpcAddress(dump, leader);
                if (addr.isPresent()) {
                    try {
                        consensus().stepDown(leader, addr.get(), tablet, s.to().value());
                        asked = true;
                        progress.update(0.5, "waiting for " + s.to() + " to lead");
                    } catch (KuduConsensus.Refused r) {
                        if (!retryable(r)) {
                            throw new ConnectorException(Engine.KUDU, what, r.getMessage(), ConnectorException.Kind.REFUSED, null);
                        }
                    }
                }
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS / 2);
        }
        throw new ConnectorException(Engine.KUDU, what, s.to() + " did not become leader within 15 s", true, null);
    }

    /**
     * A replica move as Kudu's rebalancer makes it ({@code ScheduleReplicaMove}, then {@code CheckCompleteMove}
     * in {@code tools/tool_replica_util.cc}): read the leader's committed config, ask for the move with a
     * compare-and-swap on its index, then follow the config at the master until the destination votes
     * and the source has left. Kudu's {@code move_replica} first runs a ksck of the tablet; here the same
     * refusals come from the config itself (a copy on a silent tserver, a change still pending).
     */
    private void moveByRpc(Step s, StepProgress progress) throws ConnectorException, InterruptedException {
        String tablet = s.partition().value();
        String from = s.from().value();
        String to = s.to().value();
        String what = "move replica " + tablet + " " + s.from() + " → " + s.to();
        progress.update(0.05, "asking the leader to add " + s.to() + " as a non-voter");
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String waitingFor = "";
        boolean scheduled = false;
        for (int attempt = 0; !scheduled; attempt++) {
            if (attempt > 0) {
                if (System.nanoTime() > settle) {
                    throw new ConnectorException(Engine.KUDU, what, "tablet " + tablet + " is not ready to move after 30 s: " + waitingFor,
                            ConnectorException.Kind.NOT_YET, null);
                }
                TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
            }
            JsonNode dump = attempt == 0 ? polledEntities() : http.dumpEntities();
            JsonNode t = tablet(dump, tablet).orElseThrow(() -> new ConnectorException(Engine.KUDU, what, "the master lists no tablet " + tablet,
                    ConnectorException.Kind.DRIFT, null));
            if (silent(dump, to)) {
                throw new ConnectorException(Engine.KUDU, what, s.to() + " stopped answering (no heartbeat for over "
                        + DEAD_AFTER_MILLIS / 1000 + " s); the move was not started", ConnectorException.Kind.SERVER_LOST, null);
            }
            for (JsonNode rep : t.path("replicas")) {
                String u = rep.path("server_uuid").asText();
                if (!u.equals(from) && silent(dump, u)) {
                    throw new ConnectorException(Engine.KUDU, what, "tablet " + tablet + " has a copy on " + u
                            + ", which stopped answering; Kudu moves the tablet once it has replaced that copy", ConnectorException.Kind.NOT_YET, null);
                }
            }
            String leader = t.path("leader").asText("");
            Optional<String> leaderAddr = leader.isEmpty() ? Optional.empty() : rpcAddress(dump, leader);
            if (leaderAddr.isEmpty()) {
                waitingFor = "it has no leader";
                continue;
            }
            KuduConsensus.State st;
            try {
                st = consensus().state(leader, leaderAddr.get(), tablet);
            } catch (KuduConsensus.Refused r) {
                if (!retryable(r)) {
                    throw new ConnectorException(Engine.KUDU, what, r.getMessage(), ConnectorException.Kind.REFUSED, null);
                }
                waitingFor = r.getMessage();
                continue;
            } catch (ConnectorException e) {
                // the leader the master names does not answer (it may have just died): a new one is elected in seconds
                waitingFor = "its leader " + leader + " does not answer (" + e.reason() + ")";
                continue;
            }
            if (!leader.equals(st.leader())) {
                waitingFor = "its leadership is changing";
                continue;
            }
            RaftPeerPBView src = RaftPeerPBView.of(st.peer(from));
            RaftPeerPBView dst = RaftPeerPBView.of(st.peer(to));
            if (dst != null) {
                if (src == null && dst.voter()) {
                    progress.update(1.0, "done (found done)");
                    return;
                }
                if (src != null && src.replace() && dst.promote()) {
                    scheduled = true; // asked before (an earlier try whose answer was lost): follow it
                    break;
                }
                throw new ConnectorException(Engine.KUDU, what, "tablet " + tablet + ": replica " + to + " is already present",
                        ConnectorException.Kind.DRIFT, null);
            }
            if (src == null) {
                throw new ConnectorException(Engine.KUDU, what, "tablet " + tablet + ": " + from + " no longer holds a replica",
                        ConnectorException.Kind.DRIFT, null);
            }
            if (st.hasPending()) {
                waitingFor = "a config change is still pending";
                continue;
            }
            String busy = st.cstate().getCommittedConfig().getPeersList().stream()
                    .filter(p -> p.getMemberType() != org.apache.kudu.consensus.Metadata.RaftPeerPB.MemberType.VOTER || p.getAttrs().getReplace())
                    .map(p -> p.getPermanentUuid().toStringUtf8()).findFirst().orElse(null);
            if (busy != null) {
                waitingFor = "another change of its replicas is under way (" + busy + ")";
                continue;
            }
            Optional<String> toAddr = rpcAddress(dump, to);
            if (toAddr.isEmpty()) {
                throw new ConnectorException(Engine.KUDU, what, "the master lists no RPC address for " + to, ConnectorException.Kind.DRIFT, null);
            }
            try {
                consensus().scheduleMove(leader, leaderAddr.get(), tablet, from, to, toAddr.get(), st.configIndex());
                scheduled = true;
            } catch (ConnectorException e) {
                // no answer: the change may or may not have been made; the next look at the config tells (an earlier
                // ask shows as the source marked REPLACE and the destination to be promoted, and is followed)
                waitingFor = "the leader did not answer BulkChangeConfig (" + e.reason() + ")";
            } catch (KuduConsensus.Refused r) {
                if (!retryable(r)) {
                    throw new ConnectorException(Engine.KUDU, what, r.getMessage(),
                            r.getMessage().contains("already") ? ConnectorException.Kind.DRIFT : ConnectorException.Kind.REFUSED, null);
                }
                waitingFor = r.getMessage();
            }
        }
        followMove(s, progress, what);
    }

    /** Follows a scheduled move at the master until it is done, the destination dies, or Kudu drops the new copy. */
    private void followMove(Step s, StepProgress progress, String what) throws ConnectorException, InterruptedException {
        String tablet = s.partition().value();
        String from = s.from().value();
        String to = s.to().value();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MOVE_TIMEOUT);
        long started = System.nanoTime();
        boolean seen = false;
        boolean steppedDown = false;
        while (true) {
            JsonNode dump = polledEntities();
            if (silent(dump, to)) {
                if (moveDone(s)) {
                    return;
                }
                throw new ConnectorException(Engine.KUDU, what, s.to() + " stopped answering (no heartbeat for over " + DEAD_AFTER_MILLIS / 1000
                        + " s); the move was abandoned", ConnectorException.Kind.SERVER_LOST, null);
            }
            Optional<JsonNode> t = tablet(dump, tablet);
            String type = null;
            boolean sourceIn = false;
            String leader = "";
            if (t.isPresent()) {
                leader = t.get().path("leader").asText("");
                for (JsonNode rep : t.get().path("replicas")) {
                    String u = rep.path("server_uuid").asText();
                    if (u.equals(to)) {
                        type = rep.path("type").asText();
                    }
                    sourceIn |= u.equals(from);
                    if (!u.equals(to) && !u.equals(from) && silent(dump, u)) {
                        // the source's REPLACE mark waits for a healthy replacement: Kudu finishes this once it has replaced that copy
                        throw new ConnectorException(Engine.KUDU, what, "tablet " + tablet + " has a copy on " + u
                                + ", which stopped answering; Kudu completes the move once it has replaced that copy",
                                ConnectorException.Kind.NOT_YET, null);
                    }
                }
            }
            if ("VOTER".equals(type) && !sourceIn) {
                progress.update(0.95, "source left");
                return;
            }
            if ("NON_VOTER".equals(type)) {
                seen = true;
                progress.update(0.4, "copying to " + s.to() + " (non-voter)");
            } else if ("VOTER".equals(type)) {
                seen = true;
                progress.update(0.8, "promoted; waiting for " + s.from() + " to leave");
                if (leader.equals(from) && !steppedDown) {
                    // the master does not evict a leader: it steps down first (CheckCompleteMove does the same)
                    steppedDown = true;
                    Optional<String> addr = rpcAddress(dump, from);
                    if (addr.isPresent()) {
                        try {
                            consensus().stepDown(from, addr.get(), tablet, null);
                        } catch (KuduConsensus.Refused | ConnectorException e) {
                            LOG.fine(what + ": step-down of the source: " + e.getMessage());
                            steppedDown = false;
                        }
                    }
                }
            } else if (type == null && (seen || System.nanoTime() - started > TimeUnit.SECONDS.toNanos(20))) {
                if (moveDone(s)) {
                    return;
                }
                if (seen || !consensusHas(dump, tablet, to)) {
                    throw new ConnectorException(Engine.KUDU, what, "tablet " + tablet + ", TS " + from + " -> TS " + to
                            + " move failed, target replica disappeared", ConnectorException.Kind.TRANSIENT, null);
                }
                started = System.nanoTime();
            }
            if (System.nanoTime() > deadline) {
                throw new ConnectorException(Engine.KUDU, what, "not complete after " + MOVE_TIMEOUT / 1000 + " s", true, null);
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS / 2);
        }
    }

    /** Whether the tablet's leader has {@code uuid} in its committed config (the master may not have heard yet). */
    private boolean consensusHas(JsonNode dump, String tablet, String uuid) {
        try {
            String leader = tablet(dump, tablet).map(t -> t.path("leader").asText("")).orElse("");
            Optional<String> addr = leader.isEmpty() ? Optional.empty() : rpcAddress(dump, leader);
            return addr.isEmpty() || consensus().state(leader, addr.get(), tablet).peer(uuid) != null;
        } catch (ConnectorException | KuduConsensus.Refused e) {
            return true; // not known: keep following
        }
    }

    /** The three things a move reads of a peer. */
    private record RaftPeerPBView(boolean voter, boolean replace, boolean promote) {
        static RaftPeerPBView of(org.apache.kudu.consensus.Metadata.RaftPeerPB p) {
            return p == null ? null : new RaftPeerPBView(p.getMemberType() == org.apache.kudu.consensus.Metadata.RaftPeerPB.MemberType.VOTER,
                    p.getAttrs().getReplace(), p.getAttrs().getPromote());
        }
    }

    /**
     * Kudu's own {@code move_replica} refuses a tablet that ksck does not call healthy (a copy on a dead
     * tserver, a copy being built): for now, until Kudu has replaced it. Its "already present" means the
     * destination holds a copy Kudu put there meanwhile: the cluster changed under the plan.
     */
    static ConnectorException.Kind moveFailureKind(String error) {
        if (error.contains("ksck pre-move health check failed")) {
            return ConnectorException.Kind.NOT_YET;
        }
        if (error.contains("is already present")) {
            return ConnectorException.Kind.DRIFT;
        }
        return KuduCli.isTransient(error) ? ConnectorException.Kind.TRANSIENT : ConnectorException.Kind.REFUSED;
    }

    // ---- dead tservers --------------------------------------------------------------------------

    /** Kudu's defaults, used when no server tells its own value. */
    static final Duration FOLLOWER_FAILED_DEFAULT = Duration.ofSeconds(300);
    private static final String FOLLOWER_FAILED = "follower_unavailable_considered_failed_sec";
    private volatile Replacement replacement;

    /** Each tserver's heartbeat age as the leader master has it ({@code /dump-entities}, shared with the steps' polls). */
    @Override
    public Map<ServerId, Long> heartbeatAges() throws ConnectorException {
        Map<ServerId, Long> out = new HashMap<>();
        for (JsonNode ts : polledEntities().path("tablet_servers")) {
            long age = ts.path("live").asBoolean(true) ? ts.path("millis_since_heartbeat").asLong(0) : Long.MAX_VALUE;
            out.put(ServerId.of(ts.path("uuid").asText()), age);
        }
        return out;
    }

    /**
     * When Kudu replaces a dead tserver's copies: {@code follower_unavailable_considered_failed_sec} as a live
     * tserver runs it (its tablets' leaders evict a follower silent that long, and the masters then add a new
     * copy), read once with {@code kudu tserver get_flags}; the masters' value when no tserver answers; Kudu's
     * default of 300 s when neither does.
     */
    @Override
    public Optional<Replacement> deadCopyReplacement() throws ConnectorException {
        Replacement r = replacement;
        if (r != null) {
            return Optional.of(r);
        }
        List<String[]> asks = new ArrayList<>();
        for (JsonNode ts : polledEntities().path("tablet_servers")) {
            String rpc = ts.path("rpc_addrs").path(0).asText("");
            if (!rpc.isEmpty() && ts.path("live").asBoolean(true) && ts.path("millis_since_heartbeat").asLong(0) < DEAD_AFTER_MILLIS) {
                asks.add(new String[]{"tserver " + rpc, "tserver", "get_flags", rpc, "-flags=" + FOLLOWER_FAILED});
                if (asks.size() == 2) {
                    break;
                }
            }
        }
        for (String m : masterList) {
            asks.add(new String[]{"master " + m, "master", "get_flags", m, "-flags=" + FOLLOWER_FAILED});
        }
        for (String[] ask : asks) {
            KuduCli.Result res = cli.run(CLI_TIMEOUT, Arrays.copyOfRange(ask, 1, ask.length));
            Optional<Long> secs = res.ok() ? flagValue(res.out(), FOLLOWER_FAILED) : Optional.empty();
            if (secs.isPresent()) {
                r = new Replacement(FOLLOWER_FAILED, Duration.ofSeconds(secs.get()), "read from " + ask[0]);
                replacement = r;
                return Optional.of(r);
            }
            LOG.fine("get_flags from " + ask[0] + ": " + (res.ok() ? "no " + FOLLOWER_FAILED + " in its answer" : res.error()));
        }
        return Optional.of(new Replacement(FOLLOWER_FAILED, FOLLOWER_FAILED_DEFAULT, "Kudu's default (no server answered get_flags)"));
    }

    /**
     * A flag's value from {@code kudu tserver get_flags}' table ({@code  flag | value | default? | tags}).
     */
    static Optional<Long> flagValue(String table, String flag) {
        for (String line : table.split("\n")) {
            String[] cols = line.split("\\|");
            if (cols.length >= 2 && cols[0].trim().equals(flag)) {
                try {
                    return Optional.of(Long.parseLong(cols[1].trim()));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    @Override
    public boolean canEvictDeadCopies() {
        return true;
    }

    private static String[] evictArgs(PartitionId tablet, ServerId dead) {
        // a short timeout: a drop that cannot reach the tablet's leader now is tried again at the run's next look,
        // rather than holding up the other tablets' drops for the tool's default 60 s
        return new String[]{"tablet", "change_config", "remove_replica", "@MASTERS", tablet.value(), dead.value(), "-timeout_ms=10000"};
    }

    /**
     * {@code kudu tablet change_config remove_replica}: the tablet's leader drops the dead tserver's copy from
     * its config, and the masters add a new copy at once (the config is short of its replication factor),
     * instead of after {@code follower_unavailable_considered_failed_sec}.
     */
    @Override
    public void evictCopy(PartitionId tablet, ServerId dead) throws ConnectorException {
        KuduCli.Result r = cli.run(CLI_TIMEOUT, evictArgs(tablet, dead));
        // one config change at a time: a move or Kudu's own replacement may be committing one right now
        for (int i = 0; i < 10 && !r.ok() && r.error().contains("change currently pending"); i++) {
            try {
                TimeUnit.MILLISECONDS.sleep(300); // the leader commits its pending change in moments
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            r = cli.run(CLI_TIMEOUT, evictArgs(tablet, dead));
        }
        if (!r.ok() && !r.error().contains("not a member") && !r.error().contains("Not found")) {
            throw new ConnectorException(Engine.KUDU, "remove the copy of " + tablet + " on " + dead, r.error(), KuduCli.isTransient(r.error()), null);
        }
    }

    @Override
    public String evictCommand(PartitionId tablet, ServerId dead) {
        return line(evictArgs(tablet, dead));
    }

    /** A tserver that has missed this many milliseconds of heartbeats (one a second by default) is not answering. */
    private static final long SILENT_COPY_MILLIS = 3_000;

    /** The first tserver holding a copy of {@code tablet} that has not heartbeated for {@code millis}, if any. */
    private Optional<String> copyOnSilentTserver(String tablet, long millis) {
        JsonNode dump;
        try {
            dump = http.dumpEntities();
        } catch (ConnectorException e) {
            return Optional.empty(); // the step's own error says more
        }
        Optional<JsonNode> t = tablet(dump, tablet);
        if (t.isEmpty()) {
            return Optional.empty();
        }
        for (JsonNode rep : t.get().path("replicas")) {
            String u = rep.path("server_uuid").asText();
            JsonNode ts = tserver(dump, ServerId.of(u)).orElse(null);
            if (ts == null || !ts.path("live").asBoolean(true) || ts.path("millis_since_heartbeat").asLong(0) > millis) {
                return Optional.of(u);
            }
        }
        return Optional.empty();
    }

    private static void destroy(Process p) {
        if (p != null) {
            p.destroyForcibly();
        }
    }

    private boolean moveDone(Step s) throws ConnectorException {
        Optional<JsonNode> t = tablet(s.partition().value());
        if (t.isEmpty()) {
            return false;
        }
        boolean toVoter = false;
        boolean fromIn = false;
        for (JsonNode r : t.get().path("replicas")) {
            String u = r.path("server_uuid").asText();
            toVoter |= u.equals(s.to().value()) && "VOTER".equals(r.path("type").asText());
            fromIn |= u.equals(s.from().value());
        }
        return toVoter && !fromIn;
    }

    /**
     * Kudu's documented drain: {@code cluster rebalance --ignored_tservers=U
     * --move_replicas_from_ignored_tservers} (U must be in maintenance mode). Its lines go to the run's log;
     * progress is the share of U's replicas that have left it, read from the master.
     */
    private void engineDrain(Step s, StepProgress progress) throws ConnectorException, InterruptedException {
        String u = s.servers().stream().map(ServerId::value).collect(Collectors.joining(", "));
        long initial = replicasOn(s.servers());
        KuduCli.Result r = whilePolling(() -> cli.stream(4 * 3_600_000L, line -> {
            if (line.contains("move scheduled") || line.contains("move completed") || line.contains("rebalancing is complete")
                    || line.startsWith("running ") || line.contains("replacing replicas") || line.contains("re-synchronizing")
                    || line.contains("abandoned") || line.contains("ignored") || line.contains("No replica could be moved")
                    || line.contains("Illegal state") || line.contains("Invalid argument")) {
                progress.log(line);
            }
        }, args(s)), 1000, () -> {
            long left = replicasOn(s.servers());
            progress.update(initial == 0 ? 0.9 : Math.min(0.95, 0.9 * (initial - left) / initial),
                    left > 0 ? left + " of " + initial + " replicas still on " + u : u + " is empty; the rebalancer evens out the rest");
        });
        if (!r.ok()) {
            throw new ConnectorException(Engine.KUDU, "cluster rebalance", r.error(), KuduCli.isTransient(r.error()), null);
        }
        long left = replicasOn(s.servers());
        if (left > 0) {
            throw new ConnectorException(Engine.KUDU, "cluster rebalance", "finished but " + left + " replica(s) are still on " + u, true, null);
        }
    }

    /** A blocking CLI call. */
    @FunctionalInterface
    private interface Call {
        KuduCli.Result run() throws ConnectorException;
    }

    /** A look at the cluster to report progress; its failures are only logged. */
    @FunctionalInterface
    private interface Poll {
        void run() throws ConnectorException;
    }

    /** Runs a blocking CLI call on another thread and polls the cluster every {@code everyMillis} until it returns. */
    private static KuduCli.Result whilePolling(Call call, long everyMillis, Poll poll) throws ConnectorException, InterruptedException {
        CompletableFuture<KuduCli.Result> run = CompletableFuture.supplyAsync(() -> {
            try {
                return call.run();
            } catch (ConnectorException e) {
                throw new CompletionException(e);
            }
        }, KuduCli.blocking()); // not the common pool: its cores-less-one threads would cap the moves at once
        while (!run.isDone()) {
            try {
                poll.run();
            } catch (ConnectorException e) {
                LOG.fine("progress poll failed: " + e.getMessage());
            }
            try {
                run.get(everyMillis, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // keep polling until the call has returned
            }
        }
        try {
            return run.join();
        } catch (CompletionException e) {
            throw (ConnectorException) e.getCause();
        }
    }

    private long replicasOn(List<ServerId> servers) throws ConnectorException {
        Set<String> uuids = servers.stream().map(ServerId::value).collect(Collectors.toSet());
        long n = 0;
        for (JsonNode t : http.dumpEntities().path("tablets")) {
            for (JsonNode r : t.path("replicas")) {
                if (uuids.contains(r.path("server_uuid").asText())) {
                    n++;
                }
            }
        }
        return n;
    }

    private Optional<JsonNode> tserver(ServerId id) throws ConnectorException {
        return tserver(http.dumpEntities(), id);
    }

    private static Optional<JsonNode> tserver(JsonNode dump, ServerId id) {
        for (JsonNode ts : dump.path("tablet_servers")) {
            if (ts.path("uuid").asText().equals(id.value())) {
                return Optional.of(ts);
            }
        }
        return Optional.empty();
    }

    /**
     * "kudu tserver unregister" asks every master, and first checks the list is the cluster's whole list
     * by calling each one (VerifyMasterAddressList in Kudu's tool_action_master.cc): it cannot run while a
     * master is down. The step says so and waits for the master to come back (systemd restarts it, or
     * the operator does); a cancel leaves the tserver stopped and registered, with the command to run later.
     */
    private void awaitEveryMaster(Step s, StepProgress progress) throws ConnectorException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.HOURS.toNanos(2);
        String said = null;
        while (true) {
            List<String> down = mastersDown();
            if (down.isEmpty()) {
                if (said != null) {
                    progress.log("every master answers again; unregistering " + s.server());
                }
                return;
            }
            String later = "kudu tserver unregister " + allMasters + " " + s.server() + " --force_unregister_live_tserver";
            String msg = "master(s) " + String.join(", ", down) + " down: Kudu unregisters a tserver only when every master answers. "
                    + "Waiting for it to come back (restart it); or cancel and run later: " + later;
            if (!msg.equals(said)) {
                LOG.warning(msg);
                progress.log(msg);
                progress.update(-1, msg);
                said = msg;
            }
            if (progress.cancelRequested()) {
                throw new ConnectorException(Engine.KUDU, "unregister " + s.server(), "cancelled while master(s) " + String.join(", ", down)
                        + " were down; " + s.server() + " is stopped and still registered: run " + later, ConnectorException.Kind.STOPPED, null);
            }
            if (System.nanoTime() > deadline) {
                throw new ConnectorException(Engine.KUDU, "unregister " + s.server(), "master(s) " + String.join(", ", down)
                        + " still down after 2 hours; run later: " + later, false, null);
            }
            TimeUnit.SECONDS.sleep(2);
        }
    }

    /** Stops the tserver (local cluster) or waits for the operator to; done once its heartbeats stop. */
    private void stopServer(Step s, StepProgress progress) throws ConnectorException, InterruptedException {
        JsonNode ts = tserver(s.server()).orElse(null);
        if (ts == null) {
            return;
        }
        String rpc = ts.path("rpc_addrs").path(0).asText();
        noteTombstones(s.server(), ts);
        if (control != null && control.controls(rpc)) {
            progress.update(0.3, "stopping the tablet server process at " + rpc);
            control.stop(rpc);
        } else {
            progress.update(-1, "Stop the tablet server process at " + rpc + " now and keep it stopped "
                    + "(e.g. systemctl stop kudu-tserver && systemctl disable kudu-tserver); waiting for its heartbeats to stop");
        }
        long deadline = System.nanoTime() + TimeUnit.HOURS.toNanos(2);
        while (System.nanoTime() < deadline) {
            Optional<JsonNode> now = tserver(s.server());
            if (now.isEmpty() || !now.get().path("live").asBoolean(true) || now.get().path("millis_since_heartbeat").asLong() > 5_000) {
                progress.update(1, "no heartbeat from " + rpc);
                return;
            }
            TimeUnit.MILLISECONDS.sleep(500);
        }
        throw new ConnectorException(Engine.KUDU, "stop " + rpc, "the tablet server still heartbeats after 2 hours", false, null);
    }

    /**
     * Unregisters a stopped tserver so the masters need no restart (Kudu 1.16+, KUDU-2915). The force
     * flag is safe only because the heartbeats have stopped: a running tserver would re-register.
     */
    private void unregister(Step s, StepProgress progress) throws ConnectorException, InterruptedException {
        Optional<JsonNode> ts = tserver(s.server());
        if (ts.isEmpty()) {
            return;
        }
        if (ts.get().path("live").asBoolean(true) && ts.get().path("millis_since_heartbeat").asLong() < 3_000) {
            throw new ConnectorException(Engine.KUDU, "unregister " + s.server(), "the tablet server still heartbeats; stop it first", false, null);
        }
        awaitEveryMaster(s, progress);
        KuduCli.Result r = cli.run(CLI_TIMEOUT, args(s));
        if (!r.ok()) {
            String e = r.error();
            if (e.contains("Invalid argument") && e.contains("force_unregister_live_tserver") || e.contains("unknown command")) {
                throw new ConnectorException(Engine.KUDU, "unregister " + s.server(), "this Kudu has no 'tserver unregister' (before 1.16): "
                        + "restart the masters one by one so they forget " + s.server() + ", then run ksck", false, null);
            }
            throw new ConnectorException(Engine.KUDU, "unregister " + s.server(), e, KuduCli.isTransient(e), null);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (tserver(s.server()).isEmpty()) {
                progress.update(1, "unregistered");
                return;
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        throw new ConnectorException(Engine.KUDU, "unregister " + s.server(), "the masters still list it 10 s later; it may be running again", false, null);
    }
}
