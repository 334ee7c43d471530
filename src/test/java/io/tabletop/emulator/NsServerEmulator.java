package io.tabletop.emulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * An emulator of ns_server's REST API (Couchbase Server's cluster manager), written from the documented
 * shapes and ns_server's source (src/docs/couchbase.md, from menelaus_web*.erl, ns_doctor.erl and the REST docs),
 * never from Tabletop's connector or planner: its rebalance decides the new vBucket maps by its own simple
 * rule (below), so a test that compares Tabletop's forecast with the result is not circular.
 *
 * <p>Each node is a real HTTP(S) listener on its own loopback address (127.0.1.N, an ephemeral port), and
 * every node answers for the whole cluster, as ns_server does. Every request needs HTTP Basic with the
 * emulator's user and password (401, empty body, otherwise). Controller calls check {@code uuid}. A rebalance
 * moves a few vBuckets per tick on a background thread (bucket by bucket, as ns_server does), exposing the
 * rebalance task with {@code perNode}, {@code detailedProgress} and {@code stageInfo}, and
 * {@code vBucketMapForward}; when it is done the ejected and failed-over nodes leave the cluster and go on
 * answering on the same address as uninitialised nodes (401 to every request). It can be stopped, made to
 * fail half-way, lose a node, answer tasks as a slow observer does, or see no buckets for its user. Each
 * behaviour cites ns_server's source (branch trinity, 7.6, src/ and include/).
 *
 * <p>The emulator's map rule: a new bucket's vBucket k is active on data node k mod N, its replicas on the
 * next nodes round the ring. A rebalance: the surviving data nodes (known, not ejected, not failed over) sorted by
 * otpNode; R' = min(R, N'−1); each vBucket keeps its active on a survivor while that survivor has fewer
 * than ⌈V/N'⌉ actives, else the active goes to the survivor with fewest actives; replicas on survivors
 * stay while the node has fewer than ⌈R'·V/N'⌉, the rest go to the survivors with fewest replicas not
 * already in the chain.
 */
public final class NsServerEmulator implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // The JDK server writes headers and body apart; without TCP_NODELAY each reply waits out the
        // client's delayed ACK (about 40 ms), which no real ns_server does.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    private static final int KV_PORT = 11210;
    /** Memory one item copy takes in the emulated buckets (key, metadata and a small document). */
    static final long ITEM_MEMORY = 1_200;

    /** A node of the emulated cluster. */
    private static final class Node {
        final String otp;
        final String ip;
        final List<String> services;
        final String group;
        String membership = "active";
        String status = "healthy";
        /** Unfinished failover recorded against the node (chronicle_master's prev_failover_nodes). */
        boolean unfinishedFailover;
        /**
         * Ejected by a rebalance: the node left the cluster and restarted its REST service on the same port
         * as a fresh, uninitialised node (ns_rebalancer.erl:903-911 calls ns_cluster:leave/1 on each ejected
         * node; ns_cluster.erl:467-483 stops and restarts ns_server; :1686-1707 clears the config keeping only
         * directories and rest settings, so the port stays and rest_creds go). Its config then has the
         * default {@code {rest_creds, null}}, "no login/password auth check" (ns_config_default.erl:188-190),
         * and ns_config_auth.erl:158-161 makes any user and password admin: it answers, as a node that is
         * part of no cluster ({@link #routeFresh}). Its certificates are deleted (ns_cluster.erl:1662-1666,
         * ns_ssl_services_setup.erl:1371-1378) and a new self-signed one is generated on restart.
         */
        boolean left;
        HttpServer server;

        Node(String ip, List<String> services, String group) {
            this.otp = "ns_1@" + ip;
            this.ip = ip;
            this.services = List.copyOf(services);
            this.group = group;
        }

        String hostname() {
            return ip + ":" + server.getAddress().getPort();
        }

        boolean kv() {
            return services.contains("kv");
        }
    }

    /** A bucket: its map holds node otpNames (null = no copy). */
    private static final class Bucket {
        final String name;
        final String uuid = UUID.randomUUID().toString().replace("-", "");
        final String type;
        final int replicas;
        final long[] items;
        String[][] map;
        String[][] target;

        Bucket(String name, String type, int replicas, int vbuckets, long items) {
            this.name = name;
            this.type = type;
            this.replicas = replicas;
            this.items = new long[type.equals("memcached") ? 0 : vbuckets];
            for (int v = 0; v < this.items.length; v++) {
                this.items[v] = items / vbuckets + (v < items % vbuckets ? 1 : 0);
            }
        }

        long itemCount() {
            long n = 0;
            for (long i : items) {
                n += i;
            }
            return n;
        }
    }

    private final String user;
    private final String password;
    private final String uuid = UUID.randomUUID().toString().replace("-", "");
    private final List<Node> nodes = new ArrayList<>();
    private final List<Bucket> buckets = new ArrayList<>();
    private final ExecutorService http = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "ns-server-emulator-http");
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ns-server-emulator-rebalance");
        t.setDaemon(true);
        return t;
    });
    private final int movesPerTick;
    private final long tickMillis;
    private final long ramPerNode;
    private final SSLContext tls;
    private final boolean noBucketsVisible;

    // rebalance state, guarded by this
    private boolean running;
    /** "rebalance" or "gracefulFailover": what the running task is. */
    private String subtype = "rebalance";
    private Set<String> failingOver = Set.of();
    private String rebalanceId;
    private Set<String> ejecting = Set.of();
    private int movesTotal;
    /** Per node: vBuckets of this rebalance that change on it (its own moves, in or out). */
    private final Map<String, Integer> involved = new HashMap<>();
    private int movesDone;
    private int failAfterMoves = -1;
    private String lastError;
    private String lastReport;
    private ScheduledFuture<?> tick;
    private int mapRequests;
    /**
     * The rebalance status's uuid ({@code statusId} in the task): a new random one at every status change,
     * start, end, failure or refusal (rebalance.erl:67-72, ns_doctor.erl:828-830).
     */
    private String statusId; // none until the first status (ns_doctor.erl:828-830: only when rebalance:status_uuid() is set)
    /** Tasks calls still to be answered as if the rebalance observer did not answer in time. */
    private int staleTasks;
    /** The {@code rebalanceStatusTimeout} of the last tasks call (ms), or -1 when it had none. */
    private int lastTasksTimeout = -1;
    /** Nodes that left the cluster (still listening, uninitialised). */
    private final List<Node> departed = new ArrayList<>();
    private final List<String> requests = new ArrayList<>();
    private final Map<String, String> reports = new HashMap<>();

    private NsServerEmulator(Builder b) throws IOException {
        this.user = b.user;
        this.password = b.password;
        this.movesPerTick = b.movesPerTick;
        this.ramPerNode = b.ramPerNode;
        this.tickMillis = b.tickMillis;
        this.tls = b.tls;
        this.noBucketsVisible = b.noBucketsVisible;
        for (Builder.NodeSpec n : b.nodes) {
            nodes.add(new Node(n.ip, n.services, n.group));
        }
        for (Node n : nodes) {
            listen(n);
        }
        for (Builder.BucketSpec s : b.buckets) {
            Bucket k = new Bucket(s.name, s.type, s.replicas, s.vbuckets, s.items);
            buckets.add(k);
            k.map = balancedMap(kvNodes(), k);
            if (s.activeItemsPerNode != null) {
                List<String> kv = kvNodes().stream().map(n -> n.otp).toList();
                for (int n = 0; n < kv.size(); n++) {
                    List<Integer> mine = new ArrayList<>();
                    for (int v = 0; v < k.map.length; v++) {
                        if (kv.get(n).equals(k.map[v][0])) {
                            mine.add(v);
                        }
                    }
                    for (int j = 0; j < mine.size(); j++) {
                        long t = s.activeItemsPerNode[n];
                        k.items[mine.get(j)] = t / mine.size() + (j < t % mine.size() ? 1 : 0);
                    }
                }
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** What the emulated cluster is made of. */
    public static final class Builder {
        record NodeSpec(String ip, List<String> services, String group) {
        }

        record BucketSpec(String name, String type, int replicas, int vbuckets, long items, long[] activeItemsPerNode) {
        }

        private String user = "Administrator";
        private String password = "password";
        private final List<NodeSpec> nodes = new ArrayList<>();
        private final List<BucketSpec> buckets = new ArrayList<>();
        private int movesPerTick = 64;
        private long ramPerNode = 200L << 20;
        private long tickMillis = 20;
        private SSLContext tls;
        private boolean noBucketsVisible;

        /**
         * The user may read the pools but no bucket: bucket listings are filtered by the caller's
         * permissions and come back empty (menelaus_web_buckets.erl:82-92).
         */
        public Builder noBucketsVisible() {
            this.noBucketsVisible = true;
            return this;
        }

        public Builder credentials(String user, String password) {
            this.user = user;
            this.password = password;
            return this;
        }

        /** A data node at 127.0.1.{@code n}. */
        public Builder dataNode(int n) {
            return node(n, List.of("kv"), null);
        }

        public Builder node(int n, List<String> services, String group) {
            nodes.add(new NodeSpec("127.0.1." + n, services, group));
            return this;
        }

        public Builder bucket(String name, int replicas, int vbuckets, long items) {
            buckets.add(new BucketSpec(name, "membase", replicas, vbuckets, items, null));
            return this;
        }

        /**
         * A bucket whose vBuckets hold {@code activeItemsPerNode[n]} items in total over those node n starts
         * active for (the data nodes in order), spread evenly among them: a cluster as seed 001 describes it.
         */
        public Builder bucketWithNodeItems(String name, int replicas, int vbuckets, long... activeItemsPerNode) {
            long total = 0;
            for (long i : activeItemsPerNode) {
                total += i;
            }
            buckets.add(new BucketSpec(name, "membase", replicas, vbuckets, total, activeItemsPerNode.clone()));
            return this;
        }

        public Builder memcachedBucket(String name) {
            buckets.add(new BucketSpec(name, "memcached", 0, 0, 0, null));
            return this;
        }

        /** Every bucket's RAM quota per node ({@code quota.rawRAM}); 200 MiB unless set. */
        public Builder ramPerNode(long bytes) {
            this.ramPerNode = bytes;
            return this;
        }

        /** How fast a rebalance goes: vBuckets moved per bucket per tick, and the tick. */
        public Builder pace(int movesPerTick, long tickMillis) {
            this.movesPerTick = movesPerTick;
            this.tickMillis = tickMillis;
            return this;
        }

        /** Serve HTTPS with the key in a PKCS12 keystore. */
        public Builder tls(Path keystore, char[] storePassword) throws Exception {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                ks.load(in, storePassword);
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, storePassword);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            this.tls = ctx;
            return this;
        }

        public NsServerEmulator start() throws IOException {
            if (nodes.isEmpty()) {
                throw new IllegalStateException("no nodes");
            }
            return new NsServerEmulator(this);
        }
    }

    private void listen(Node n) throws IOException {
        listen(n, 0, tls);
    }

    private void listen(Node n, int port, SSLContext context) throws IOException {
        InetSocketAddress at = new InetSocketAddress(n.ip, port);
        HttpServer s;
        if (context != null) {
            HttpsServer hs = HttpsServer.create(at, 0);
            hs.setHttpsConfigurator(new HttpsConfigurator(context));
            s = hs;
        } else {
            s = HttpServer.create(at, 0);
        }
        s.createContext("/", ex -> handle(n, ex));
        s.setExecutor(http);
        s.start();
        n.server = s;
    }

    // ---- what tests look at and do -------------------------------------------------------------

    /** The REST addresses of the nodes, {@code 127.0.1.N:PORT}, in order. */
    public synchronized List<String> hosts() {
        return nodes.stream().map(Node::hostname).toList();
    }

    public synchronized String otpNode(int index) {
        return nodes.get(index).otp;
    }

    public String uuid() {
        return uuid;
    }

    /** How many bucket listings carried the vBucket maps. */
    public synchronized int mapRequests() {
        return mapRequests;
    }

    /** Every request line served so far ({@code GET /pools/default}, without the query). */
    public synchronized List<String> requests() {
        return List.copyOf(requests);
    }

    public synchronized boolean rebalanceRunning() {
        return running;
    }

    public synchronized int movesDone() {
        return movesDone;
    }

    public synchronized List<String> members() {
        return nodes.stream().map(n -> n.otp).toList();
    }

    /** Per node otpName: {active vBuckets, replica vBuckets} of one bucket. */
    public synchronized Map<String, int[]> counts(String bucket) {
        Bucket b = bucket(bucket);
        Map<String, int[]> out = new LinkedHashMap<>();
        nodes.forEach(n -> out.put(n.otp, new int[2]));
        for (String[] chain : b.map) {
            for (int pos = 0; pos < chain.length; pos++) {
                if (chain[pos] != null) {
                    out.computeIfAbsent(chain[pos], k -> new int[2])[pos == 0 ? 0 : 1]++;
                }
            }
        }
        return out;
    }

    /** Replica copies the bucket holds (chain entries after the active that are not empty). */
    public synchronized int replicaCopies(String bucket) {
        int n = 0;
        for (String[] chain : bucket(bucket).map) {
            for (int pos = 1; pos < chain.length; pos++) {
                n += chain[pos] != null ? 1 : 0;
            }
        }
        return n;
    }

    public synchronized long items(String bucket) {
        return bucket(bucket).itemCount();
    }

    /** A new node joins as "added, not rebalanced in" (someone else changed the cluster). */
    public synchronized void addNode(int n) throws IOException {
        Node node = new Node("127.0.1." + n, List.of("kv"), null);
        node.membership = "inactiveAdded";
        listen(node);
        nodes.add(node);
    }

    /** The next rebalance fails after this many vBucket moves. */
    public synchronized void failAfterMoves(int moves) {
        failAfterMoves = moves;
    }

    /** A node goes down: unhealthy, and a running rebalance fails. Its listener keeps answering, as the others do. */
    public synchronized void loseNode(int index) {
        Node n = nodes.get(index);
        n.status = "unhealthy";
        if (running) {
            // any failure reason becomes this one message in the status (ns_orchestrator.erl:1733-1738)
            fail("Rebalance failed. See logs for detailed reason. You can try again.");
        }
    }

    /**
     * The next {@code calls} tasks calls during a rebalance find the rebalance observer too slow to answer:
     * ns_server then reports {@code status:"notRunning"} with {@code statusIsStale:true} and
     * {@code masterRequestTimedOut:true} although the rebalance runs on (rebalance.erl:109-121,
     * ns_doctor.erl:855-871); {@code /pools/default} still says {@code rebalanceStatus:"running"}, as it asks
     * rebalance:running() and not the observer (menelaus_web_pools.erl:305-312).
     */
    public synchronized void slowObserver(int calls) {
        staleTasks = calls;
    }

    /**
     * The next {@code calls} tasks answers during a rebalance lack the observer's rebalance info: no
     * rebalanceId, nodesInfo, stageInfo or masterNode (ns_doctor.erl:833-837, get_rebalance_info failing).
     */
    public synchronized void observerInfoMissing(int calls) {
        infoMissing = calls;
    }

    /**
     * The next {@code calls} tasks answers during a rebalance say notRunning, not stale: the observer call
     * failed otherwise than by a timeout (ns_rebalance_observer.erl:102-115, ns_doctor.erl:866-867), while
     * {@code /pools/default} still says running.
     */
    public synchronized void observerNotRunning(int calls) {
        observerNotRunning = calls;
    }

    /** The next {@code POST /controller/rebalance} is handled, and its answer is lost (the connection closes). */
    public synchronized void loseNextRebalanceAnswer() {
        dropNextRebalanceAnswer = true;
    }

    /** The cluster is in recovery mode: rebalance and failover answer 503 "Cluster is in recovery mode.". */
    public synchronized void recoveryMode() {
        recoveryMode = true;
    }

    /** The {@code rebalanceStatusTimeout} (ms) the last tasks call asked for, or -1. */
    public synchronized int lastTasksTimeout() {
        return lastTasksTimeout;
    }

    /**
     * An earlier failover of these nodes did not finish (chronicle_master's prev_failover_nodes): the next
     * rebalance POST is answered 200, starts nothing, and leaves "Unfinished failover of nodes [...] was
     * found." as the task's errorMessage (ns_orchestrator.erl:617-621, :1845-1852; menelaus_web_cluster.erl
     * :1138-1142 answers the bare {@code ok} with 200 and an audit record, no rebalance_id).
     */
    public synchronized void unfinishedFailover(int index) {
        nodes.get(index).unfinishedFailover = true;
    }

    /** The addresses of the nodes that left the cluster and now answer as uninitialised nodes. */
    public synchronized List<String> departedHosts() {
        return departed.stream().map(Node::hostname).toList();
    }

    /**
     * Another client's rebalance, ejecting the nodes at these indexes, starts now (as its own POST would
     * start it), or just before the next {@code POST /controller/rebalance} is handled when {@code beforeNextPost}.
     */
    public synchronized void otherClientRebalance(boolean beforeNextPost, int... ejectIndexes) {
        Set<String> eject = new HashSet<>();
        for (int i : ejectIndexes) {
            eject.add(nodes.get(i).otp);
        }
        if (beforeNextPost) {
            raceEject = eject;
        } else {
            startOthers(eject);
        }
    }

    private Set<String> raceEject;

    private void startOthers(Set<String> eject) {
        List<Node> keep = nodes.stream().filter(n -> n.kv() && !eject.contains(n.otp) && !n.membership.equals("inactiveFailed")).toList();
        startTask("rebalance", Set.copyOf(eject), Set.of(), bucket -> balancedMap(keep, bucket));
    }

    private String rebalancePostedVia;

    /** The otpNode of the node that served the last {@code POST /controller/rebalance}. */
    public synchronized String rebalancePostedVia() {
        return rebalancePostedVia;
    }

    /** The id of the running (or last) rebalance. */
    public synchronized String rebalanceId() {
        return rebalanceId;
    }

    /** How many {@code POST /controller/rebalance} calls were served. */
    public synchronized long rebalancePosts() {
        return requests.stream().filter(r -> r.equals("POST /controller/rebalance")).count();
    }

    /** A node's listener stops (connection refused there); the cluster goes on. */
    public synchronized void silence(int index) {
        nodes.get(index).server.stop(0);
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        synchronized (this) {
            for (Node n : nodes) {
                n.server.stop(0);
            }
            for (Node n : departed) {
                n.server.stop(0);
            }
        }
        http.shutdownNow();
    }

    // ---- HTTP ---------------------------------------------------------------------------------------

    private void handle(Node via, HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getPath();
            Map<String, String> query = form(ex.getRequestURI().getRawQuery());
            synchronized (this) {
                requests.add(method + " " + path);
            }
            boolean left;
            synchronized (this) {
                left = via.left;
            }
            // every request that carries ?uuid= is checked before authentication, against the node's own uuid,
            // which is empty on a node that is part of no cluster (menelaus_web.erl:1307, :1331-1346)
            String asked = query.get("uuid");
            if (asked != null && !asked.equals(left ? "" : uuid)) {
                send(ex, 404, "Cluster uuid does not match the requested.\r\n", "text/plain");
                return;
            }
            if (left) {
                routeFresh(ex, method, path); // no auth check: rest_creds null (see Node.left)
                return;
            }
            if (!authorized(ex)) {
                send(ex, 401, "", null);
                return;
            }
            String raw = method.equals("POST") ? new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8) : "";
            synchronized (this) {
                if (dropNextRebalanceAnswer && method.equals("POST") && path.equals("/controller/rebalance")) {
                    // the POST is handled and its answer lost on the way (the connection closes without one)
                    dropNextRebalanceAnswer = false;
                    route(via, new AnswerLost(ex), method, path, query, form(raw), raw);
                    return;
                }
                route(via, ex, method, path, query, form(raw), raw);
            }
        }
    }

    /**
     * A node that is part of no cluster (Node.left): {@code /pools} 200 with {@code "uuid":[]} and
     * {@code "pools":[]} (menelaus_web_pools.erl:73-88), {@code /pools/default} 404 "unknown pool"
     * (:89-95, as JSON), no buckets, and a rebalance task that never had a status: no statusId
     * (ns_doctor.erl:828-830) and not running (rebalance.erl:109-111).
     */
    private void routeFresh(HttpExchange ex, String method, String path) throws IOException {
        switch (method + " " + path) {
            case "GET /pools" -> {
                ObjectNode o = JSON.createObjectNode().put("isAdminCreds", true);
                o.putArray("pools");
                o.putArray("settings");
                o.putArray("uuid");
                json(ex, o.put("implementationVersion", "7.6.0-emulator"));
            }
            case "GET /pools/default" -> send(ex, 404, "\"unknown pool\"", "application/json");
            case "GET /pools/default/buckets" -> json(ex, JSON.createArrayNode());
            case "GET /pools/default/tasks" -> json(ex, JSON.createArrayNode().add(JSON.createObjectNode().put("type", "rebalance")
                    .put("subtype", "rebalance").put("status", "notRunning").put("statusIsStale", false).put("masterRequestTimedOut", false)));
            // its nodes_wanted is itself alone: any other knownNodes is a mismatch (ns_orchestrator.erl:603-610)
            case "POST /controller/rebalance" -> send(ex, 400, "{\"mismatch\":1}", "application/json");
            default -> send(ex, 404, "Requested resource not found.\r\n", "text/plain");
        }
    }

    /** The node leaves the cluster and restarts as a fresh node on the same port (see Node.left): its connections close. */
    private void leave(Node n) {
        n.left = true;
        departed.add(n);
        int port = n.server.getAddress().getPort();
        n.server.stop(0);
        try {
            listen(n, port, tls == null ? null : freshCertificate());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot restart " + n.otp + " on port " + port, e);
        }
    }

    /** A new self-signed certificate, as a node generates one when it has none (ns_cluster.erl:675, :1662-1666). */
    private SSLContext freshCertificate() throws IOException {
        if (freshTls == null) {
            try {
                Path d = Files.createTempDirectory("ns-fresh-node");
                Path ks = d.resolve("node.p12");
                Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                        "-alias", "node", "-keyalg", "RSA", "-keysize", "2048", "-validity", "30", "-dname", "CN=fresh-node",
                        "-ext", "SAN=ip:127.0.0.1", "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit",
                        "-keypass", "changeit").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() != 0) {
                    throw new IOException("keytool failed");
                }
                KeyStore k = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(ks)) {
                    k.load(in, "changeit".toCharArray());
                }
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(k, "changeit".toCharArray());
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(kmf.getKeyManagers(), null, null);
                freshTls = ctx;
                Files.delete(ks);
                Files.delete(d);
            } catch (IOException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
        return freshTls;
    }

    private SSLContext freshTls;

    /** An exchange whose answer is never sent: the connection closes after the request was handled. */
    private static final class AnswerLost extends HttpExchange {
        private final HttpExchange ex;

        AnswerLost(HttpExchange ex) {
            this.ex = ex;
        }

        @Override public com.sun.net.httpserver.Headers getRequestHeaders() { return ex.getRequestHeaders(); }
        @Override public com.sun.net.httpserver.Headers getResponseHeaders() { return new com.sun.net.httpserver.Headers(); }
        @Override public java.net.URI getRequestURI() { return ex.getRequestURI(); }
        @Override public String getRequestMethod() { return ex.getRequestMethod(); }
        @Override public com.sun.net.httpserver.HttpContext getHttpContext() { return ex.getHttpContext(); }
        @Override public void close() { }
        @Override public InputStream getRequestBody() { return InputStream.nullInputStream(); }
        @Override public OutputStream getResponseBody() { return OutputStream.nullOutputStream(); }
        @Override public void sendResponseHeaders(int rCode, long responseLength) { }
        @Override public InetSocketAddress getRemoteAddress() { return ex.getRemoteAddress(); }
        @Override public int getResponseCode() { return -1; }
        @Override public InetSocketAddress getLocalAddress() { return ex.getLocalAddress(); }
        @Override public String getProtocol() { return ex.getProtocol(); }
        @Override public Object getAttribute(String name) { return ex.getAttribute(name); }
        @Override public void setAttribute(String name, Object value) { ex.setAttribute(name, value); }
        @Override public void setStreams(InputStream i, OutputStream o) { }
        @Override public com.sun.net.httpserver.HttpPrincipal getPrincipal() { return ex.getPrincipal(); }
    }

    private boolean dropNextRebalanceAnswer;
    /** Non-master ejected nodes have left (the rebalance's last stage before its status changes). */
    private boolean ejectedOthers;
    /** The orchestrator's node of the running task. */
    private String master;
    private ObjectNode nodesInfo = JSON.createObjectNode();
    /** Running tasks answers still to come without the observer's rebalance info. */
    private int infoMissing;
    /** Running tasks answers still to come as not_running from the observer. */
    private int observerNotRunning;
    /** ns_server is in recovery mode (after a bucket's hard failover with recovery started). */
    private boolean recoveryMode;

    private boolean authorized(HttpExchange ex) {
        String h = ex.getRequestHeaders().getFirst("Authorization");
        if (h == null || !h.startsWith("Basic ")) {
            return false;
        }
        String want = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return h.substring(6).strip().equals(want);
    }

    private void route(Node via, HttpExchange ex, String method, String path, Map<String, String> query, Map<String, String> body,
                       String raw) throws IOException {
        switch (method + " " + path) {
            case "GET /pools" -> json(ex, JSON.createObjectNode().put("isAdminCreds", true).put("uuid", uuid)
                    .put("implementationVersion", "7.6.0-emulator").set("pools", JSON.createArrayNode()
                            .add(JSON.createObjectNode().put("name", "default").put("uri", "/pools/default?uuid=" + uuid))));
            case "GET /pools/default" -> json(ex, poolsDefault(via));
            case "GET /pools/default/buckets" -> json(ex, bucketsJson(!"true".equals(query.get("skipMap"))));
            case "GET /pools/default/tasks" -> {
                // rebalanceStatusTimeout: 1000..120000 ms, default 10000 (menelaus_web_misc.erl:79-83, ns_common.hrl:214-215)
                String t = query.get("rebalanceStatusTimeout");
                if (t != null && (!t.matches("\\d{1,6}") || Integer.parseInt(t) < 1000 || Integer.parseInt(t) > 120000)) {
                    send(ex, 400, "{\"errors\":{\"rebalanceStatusTimeout\":\"The value must be between 1000 and 120000.\"}}",
                            "application/json");
                    return;
                }
                lastTasksTimeout = t == null ? -1 : Integer.parseInt(t);
                json(ex, JSON.createArrayNode().add(task()));
            }
            case "GET /settings/rebalance" -> json(ex, JSON.createObjectNode().put("rebalanceMovesPerNode", 4));
            case "GET /logs/rebalanceReport" -> {
                String r = reports.get(query.getOrDefault("reportID", ""));
                json(ex, r == null ? JSON.createObjectNode().put("error", "enoent") : JSON.readTree(r));
            }
            case "GET /pools/default/stats/range/kv_curr_items" -> json(ex, currItems(query.get("bucket")));
            case "POST /controller/rebalance" -> {
                rebalancePostedVia = via.otp;
                rebalance(ex, query, body);
            }
            case "POST /controller/startGracefulFailover" -> gracefulFailover(ex, query, all(raw, "otpNode"));
            case "POST /controller/stopRebalance" -> {
                if (!uuidOk(ex, query)) {
                    return;
                }
                if (running) {
                    // a stop ends with status none and no message (ns_orchestrator.erl:1731-1732)
                    running = false;
                    tick.cancel(false);
                    lastError = null;
                    statusId = UUID.randomUUID().toString().replace("-", "");
                    finishBucketsPartially();
                }
                send(ex, 200, "", null);
            }
            default -> send(ex, 404, "Requested resource not found.\r\n", "text/plain");
        }
    }

    /** The stats API's active items per node of a bucket (src/docs/couchbase.md §1): one series per node, the last value now. */
    private ObjectNode currItems(String bucket) {
        Bucket b = bucket(bucket);
        Map<String, Long> per = new LinkedHashMap<>();
        nodes.forEach(n -> per.put(n.otp, 0L));
        for (int v = 0; v < b.map.length; v++) {
            if (b.map[v][0] != null) {
                per.merge(b.map[v][0], b.items[v], Long::sum);
            }
        }
        ObjectNode root = JSON.createObjectNode();
        ArrayNode data = root.putArray("data");
        long now = System.currentTimeMillis() / 1000;
        for (Node n : nodes) {
            ObjectNode series = data.addObject();
            series.putObject("metric").put("name", "kv_curr_items").put("bucket", bucket).putArray("nodes").add(n.hostname());
            series.putArray("values").addArray().add(now).add(String.valueOf(per.get(n.otp)));
        }
        root.putArray("errors");
        root.put("startTimestamp", now - 10).put("endTimestamp", now);
        return root;
    }

    private boolean uuidOk(HttpExchange ex, Map<String, String> query) throws IOException {
        String u = query.get("uuid");
        if (u != null && !u.equals(uuid)) {
            send(ex, 404, "Cluster uuid does not match the requested.\r\n", "text/plain");
            return false;
        }
        return true;
    }

    private ObjectNode poolsDefault(Node via) {
        ObjectNode root = JSON.createObjectNode();
        root.put("name", "default");
        root.put("clusterName", "emulated");
        ArrayNode ns = root.putArray("nodes");
        for (Node n : nodes) {
            ObjectNode o = ns.addObject();
            o.put("clusterMembership", n.membership);
            o.put("recoveryType", "none");
            if (n.unfinishedFailover) {
                o.put("failoverStatus", "unfinished"); // menelaus_web_node.erl:512-519
            }
            o.put("status", n.status);
            o.put("otpNode", n.otp);
            o.put("hostname", n.hostname());
            o.put("version", "7.6.0-emulator");
            // 7.6: 7 * 0x10000 + 6 (menelaus_web_node.erl:681-682, cluster_compat_mode.erl:320-322)
            o.put("clusterCompatibility", 7 * 0x10000 + 6);
            // hostname carries the REST port, ports.httpsMgmt the TLS one (menelaus_web_node.erl:639-687); one
            // listener per emulated node, so with TLS that listener is the httpsMgmt port
            o.putObject("ports").put("direct", KV_PORT).put("httpsMgmt", tls != null ? n.server.getAddress().getPort() : 18091);
            ArrayNode sv = o.putArray("services");
            n.services.forEach(sv::add);
            if (n.group != null) {
                o.put("serverGroup", n.group);
            }
            o.put("memoryTotal", 8L << 30);
            if (n == via) {
                o.put("thisNode", true);
            }
        }
        ObjectNode controllers = root.putObject("controllers");
        controllers.putObject("rebalance").put("uri", "/controller/rebalance?uuid=" + uuid);
        root.put("rebalanceStatus", running ? "running" : "none");
        root.put("rebalanceProgressUri", "/pools/default/rebalanceProgress");
        root.put("stopRebalanceUri", "/controller/stopRebalance?uuid=" + uuid);
        String state = stateKey();
        if (!state.equals(balancedFor)) {
            balancedNow = !running && nodes.stream().allMatch(n -> n.membership.equals("active")) && buckets.stream()
                    .allMatch(b -> b.map.length == 0 || isBalanced(b));
            balancedFor = state;
        }
        boolean balanced = balancedNow;
        root.put("balanced", balanced);
        root.putObject("buckets").put("uri", "/pools/default/buckets?uuid=" + uuid);
        ArrayNode names = root.putArray("bucketNames");
        (noBucketsVisible ? List.<Bucket>of() : buckets).forEach(b -> names.addObject().put("bucketName", b.name).put("uuid", b.uuid));
        return root;
    }

    /** What "balanced" depends on: membership and the maps (cheap: the moves done and the node states). */
    private String stateKey() {
        StringBuilder sb = new StringBuilder().append(running).append(movesDone).append(subtype);
        nodes.forEach(n -> sb.append(n.otp).append(n.membership).append(n.status));
        return sb.toString();
    }

    private String balancedFor = "";
    private boolean balancedNow;

    private boolean isBalanced(Bucket b) {
        String[][] want = balancedMap(kvNodes(), b);
        for (int v = 0; v < b.map.length; v++) {
            if (!Set.of(nonNull(b.map[v])).equals(Set.of(nonNull(want[v])))) {
                return false;
            }
        }
        return true;
    }

    private static String[] nonNull(String[] chain) {
        return java.util.Arrays.stream(chain).filter(x -> x != null).toArray(String[]::new);
    }

    private ArrayNode bucketsJson(boolean withMaps) {
        ArrayNode out = JSON.createArrayNode();
        if (withMaps) {
            mapRequests++;
        }
        for (Bucket b : noBucketsVisible ? List.<Bucket>of() : buckets) {
            ObjectNode o = out.addObject();
            o.put("name", b.name);
            o.put("uuid", b.uuid);
            o.put("bucketType", b.type);
            o.put("numVBuckets", b.items.length);
            o.put("replicaNumber", b.replicas);
            long kv = nodes.stream().filter(Node::kv).count();
            o.putObject("quota").put("ram", kv * ramPerNode).put("rawRAM", ramPerNode);
            long copies = b.itemCount() * (1 + Math.min(b.replicas, Math.max(0, kv - 1)));
            o.putObject("basicStats").put("itemCount", b.itemCount()).put("dataUsed", b.itemCount() * 4000)
                    .put("memUsed", copies * ITEM_MEMORY);
            if (!withMaps || b.type.equals("memcached")) {
                continue;
            }
            List<String> list = serverList(b);
            ObjectNode m = o.putObject("vBucketServerMap");
            m.put("hashAlgorithm", "CRC");
            m.put("numReplicas", b.replicas);
            ArrayNode sl = m.putArray("serverList");
            list.forEach(otp -> sl.add(otp.substring(otp.indexOf('@') + 1) + ":" + KV_PORT));
            m.set("vBucketMap", rows(b.map, list));
            if (running && b.target != null) {
                m.set("vBucketMapForward", rows(b.target, list));
            }
        }
        return out;
    }

    private List<String> serverList(Bucket b) {
        Set<String> s = new java.util.TreeSet<>();
        List<String[][]> maps = new ArrayList<>();
        maps.add(b.map);
        if (b.target != null && running) {
            maps.add(b.target);
        }
        for (String[][] map : maps) {
            for (String[] chain : map) {
                for (String x : chain) {
                    if (x != null) {
                        s.add(x);
                    }
                }
            }
        }
        return new ArrayList<>(s);
    }

    private static ArrayNode rows(String[][] map, List<String> list) {
        ArrayNode rows = JSON.createArrayNode();
        for (String[] chain : map) {
            ArrayNode r = rows.addArray();
            for (String x : chain) {
                r.add(x == null ? -1 : list.indexOf(x));
            }
        }
        return rows;
    }

    private ObjectNode task() {
        ObjectNode t = JSON.createObjectNode();
        if (statusId != null) {
            t.put("statusId", statusId);
        }
        t.put("type", "rebalance");
        t.put("subtype", subtype);
        if (running && (staleTasks > 0 || observerNotRunning > 0)) {
            // the observer did not answer within the timeout: the not-running form, marked stale, the
            // status's errorMessage (none while running) and the last report (ns_doctor.erl:855-871,
            // rebalance.erl:109-121). Any other failure of the call is not_running: the same form, not stale
            // (ns_rebalance_observer.erl:102-115, ns_doctor.erl:866-867).
            boolean stale = staleTasks > 0;
            if (stale) {
                staleTasks--;
            } else {
                observerNotRunning--;
            }
            t.put("status", "notRunning");
            t.put("statusIsStale", stale);
            t.put("masterRequestTimedOut", stale);
            if (lastReport != null) {
                t.put("lastReportURI", "/logs/rebalanceReport?reportID=" + lastReport);
            }
            return t;
        }
        if (!running) {
            t.put("status", "notRunning");
            t.put("statusIsStale", false);
            t.put("masterRequestTimedOut", false);
            // errorMessage is the last status's message and stays until the status changes again, i.e. the
            // next rebalance starts (menelaus_web_cluster.erl:1183-1185, rebalance.erl:67-72)
            if (lastError != null) {
                t.put("errorMessage", lastError);
            }
            if (lastReport != null) {
                t.put("lastReportURI", "/logs/rebalanceReport?reportID=" + lastReport);
            }
            return t;
        }
        t.put("recommendedRefreshPeriod", 0.25);
        t.put("status", "running");
        double progress = movesTotal == 0 ? 100 : 100.0 * movesDone / movesTotal;
        t.put("progress", progress);
        ObjectNode per = t.putObject("perNode");
        Map<String, int[]> left = new LinkedHashMap<>();
        Map<String, Integer> pendingOn = new HashMap<>();
        for (Node n : nodes) {
            left.put(n.otp, new int[4]);
        }
        Bucket current = null;
        for (Bucket b : buckets) {
            if (b.target == null) {
                continue;
            }
            for (int v = 0; v < b.map.length; v++) {
                boolean differs = !java.util.Arrays.equals(b.map[v], b.target[v]);
                for (String x : union(b.map[v], b.target[v])) {
                    if (differs) {
                        pendingOn.merge(x, 1, Integer::sum);
                        current = current == null ? b : current;
                        int[] l = left.computeIfAbsent(x, k -> new int[4]);
                        boolean in = contains(b.target[v], x) && !contains(b.map[v], x);
                        boolean active = x.equals(b.target[v][0]) || x.equals(b.map[v][0]);
                        l[(in ? 0 : 2) + (active ? 0 : 1)]++;
                    }
                }
            }
        }
        for (Map.Entry<String, int[]> e : left.entrySet()) {
            // a node's progress: the share of its own vBucket moves (in or out) that are done
            int[] l = e.getValue();
            int mine = involved.getOrDefault(e.getKey(), 0);
            int pending = pendingOn.getOrDefault(e.getKey(), 0);
            per.putObject(e.getKey()).put("progress", mine == 0 ? 100.0 : 100.0 * (mine - Math.min(mine, pending)) / mine);
        }
        ObjectNode dp = t.putObject("detailedProgress");
        if (current != null) {
            dp.put("bucket", current.name);
            dp.put("bucketNumber", buckets.indexOf(current) + 1);
            dp.put("bucketsCount", (int) buckets.stream().filter(b -> b.map.length > 0).count());
            ObjectNode pn = dp.putObject("perNode");
            left.forEach((otp, l) -> {
                ObjectNode o = pn.putObject(otp);
                o.putObject("ingoing").put("activeVBucketsLeft", l[0]).put("replicaVBucketsLeft", l[1]);
                o.putObject("outgoing").put("activeVBucketsLeft", l[2]).put("replicaVBucketsLeft", l[3]);
            });
        }
        ObjectNode details = t.putObject("stageInfo").putObject("data").put("totalProgress", progress).putObject("details");
        for (Bucket b : buckets) {
            if (b.target == null) {
                continue;
            }
            int remaining = 0;
            for (int v = 0; v < b.map.length; v++) {
                remaining += java.util.Arrays.equals(b.map[v], b.target[v]) ? 0 : 1;
            }
            details.putObject(b.name).putObject("vbucketLevelInfo").putObject("move")
                    .put("averageTime", tickMillis * 4.0 / Math.max(1, movesPerTick)).put("totalCount", b.map.length).put("remainingCount", remaining);
        }
        // the observer's rebalance info: rebalanceId, nodesInfo, masterNode (ns_rebalance_observer.erl:242-252),
        // nodesInfo as the orchestrator builds it (ns_orchestrator.erl:897-901)
        if (infoMissing > 0) {
            // ns_rebalance_observer:get_rebalance_info/0 failed: ns_doctor adds nothing of it, so no stageInfo,
            // rebalanceId, nodesInfo or masterNode (ns_doctor.erl:833-837)
            infoMissing--;
            t.remove("stageInfo");
            return t;
        }
        t.put("rebalanceId", rebalanceId);
        t.set("nodesInfo", nodesInfo.deepCopy());
        t.put("masterNode", master);
        return t;
    }

    private static Set<String> union(String[] a, String[] b) {
        Set<String> s = new LinkedHashSet<>();
        for (String x : a) {
            if (x != null) {
                s.add(x);
            }
        }
        for (String x : b) {
            if (x != null) {
                s.add(x);
            }
        }
        return s;
    }

    private static boolean contains(String[] chain, String x) {
        for (String y : chain) {
            if (x.equals(y)) {
                return true;
            }
        }
        return false;
    }

    private void rebalance(HttpExchange ex, Map<String, String> query, Map<String, String> body) throws IOException {
        if (!uuidOk(ex, query)) {
            return;
        }
        if (raceEject != null && !running) {
            startOthers(raceEject); // another client's POST was handled a moment before this one
            raceEject = null;
        }
        List<String> known = list(body.get("knownNodes"));
        List<String> eject = list(body.get("ejectedNodes"));
        if (known.isEmpty()) {
            send(ex, 400, "{\"empty_known_nodes\":1}", "application/json"); // menelaus_web_cluster.erl:1068-1069
            return;
        }
        if (recoveryMode) {
            send(ex, 503, "Cluster is in recovery mode.", "text/plain"); // menelaus_web_cluster.erl:1131-1132
            return;
        }
        Set<String> members = new HashSet<>(nodes.stream().map(n -> n.otp).toList());
        if (!new HashSet<>(known).equals(members) || !known.containsAll(eject)) {
            send(ex, 400, "{\"mismatch\":1}", "application/json"); // ns_orchestrator.erl:603-610, menelaus_web_cluster.erl:1125-1126
            return;
        }
        if (eject.size() >= nodes.size()) {
            send(ex, 400, "No active nodes left", "text/plain"); // ns_orchestrator.erl:616, menelaus_web_cluster.erl:1129-1130
            return;
        }
        List<String> unfinished = nodes.stream().filter(n -> n.unfinishedFailover).map(n -> "'" + n.otp + "'").toList();
        if (!unfinished.isEmpty() && !running) {
            // rebalance_allowed/1 fails: the status gets the message and the call returns ok, answered 200
            // without a rebalance_id (ns_orchestrator.erl:617-621, :1845-1852; menelaus_web_cluster.erl:1139-1142)
            lastError = "Unfinished failover of nodes [" + String.join(",", unfinished) + "] was found.";
            lastReport = null;
            statusId = UUID.randomUUID().toString().replace("-", "");
            send(ex, 200, "", null);
            return;
        }
        if (running) {
            // the checks above run in any state (ns_orchestrator.erl:581-625); then the rebalancing state
            // answers in_progress and the handler 200 with no body: nothing new starts (ns_orchestrator.erl
            // :1111-1114, menelaus_web_cluster.erl:1123-1124)
            send(ex, 200, "", null);
            return;
        }
        Set<String> leaving = new HashSet<>(eject);
        nodes.stream().filter(n -> n.membership.equals("inactiveFailed")).forEach(n -> leaving.add(n.otp));
        List<Node> keep = nodes.stream().filter(n -> n.kv() && !leaving.contains(n.otp)).toList();
        if (keep.isEmpty()) {
            send(ex, 400, "{\"noKVNodesLeft\":1}", "application/json"); // menelaus_web_cluster.erl:1136-1137
            return;
        }
        // No check of node health here: ns_server starts the rebalance with a down node and it fails later
        // (ns_orchestrator.erl:581-643 has no such check); the tick fails it.
        nodes.forEach(n -> {
            if (n.membership.equals("inactiveAdded")) {
                n.membership = "active";
            }
        });
        startTask("rebalance", Set.copyOf(leaving), Set.of(), bucket -> balancedMap(keep, bucket));
        // failed-over nodes are ejected first, when the rebalance starts (ns_rebalancer.erl:505-508); the
        // orchestrator's own node never (FailedNodesAll -- [node()])
        List<Node> failedGo = nodes.stream().filter(n -> n.membership.equals("inactiveFailed") && !n.otp.equals(master)).toList();
        nodes.removeAll(failedGo);
        failedGo.forEach(this::leave);
        // 7.6 answers {"rebalance_id": Id} (ns_orchestrator.erl:942-945, menelaus_web_cluster.erl:1144-1147)
        send(ex, 200, "{\"rebalance_id\":\"" + rebalanceId + "\"}", "application/json");
    }

    /**
     * Starts the rebalance task ({@code subtype} rebalance or gracefulFailover): each bucket's target map
     * from {@code target}, the vBuckets that change counted (in total and per node they involve), then a
     * few moved per tick.
     */
    private void startTask(String kind, Set<String> eject, Set<String> failing, java.util.function.Function<Bucket, String[][]> target) {
        subtype = kind;
        ejecting = eject;
        failingOver = failing;
        movesTotal = 0;
        movesDone = 0;
        lastError = null;
        involved.clear();
        for (Bucket b : buckets) {
            if (b.map.length == 0) {
                continue;
            }
            b.target = target.apply(b);
            for (int v = 0; v < b.map.length; v++) {
                if (!java.util.Arrays.equals(b.map[v], b.target[v])) {
                    movesTotal++;
                    for (String x : union(b.map[v], b.target[v])) {
                        involved.merge(x, 1, Integer::sum);
                    }
                }
            }
        }
        running = true;
        ejectedOthers = false;
        master = nodes.get(0).otp;
        rebalanceId = UUID.randomUUID().toString().replace("-", "");
        statusId = UUID.randomUUID().toString().replace("-", "");
        // the observer's nodesInfo is fixed when the rebalance starts (ns_orchestrator.erl:897-901)
        nodesInfo = JSON.createObjectNode();
        ArrayNode active = nodesInfo.putArray("active_nodes");
        ArrayNode keepNodes = nodesInfo.putArray("keep_nodes");
        ArrayNode ejectNodes = nodesInfo.putArray("eject_nodes");
        nodesInfo.putArray("delta_nodes");
        ArrayNode failedNodes = nodesInfo.putArray("failed_nodes");
        for (Node n : nodes) {
            boolean failed = n.membership.equals("inactiveFailed");
            if (failed && ejecting.contains(n.otp)) {
                failedNodes.add(n.otp);
            } else if (ejecting.contains(n.otp)) {
                ejectNodes.add(n.otp);
                active.add(n.otp);
            } else if (!failed) {
                keepNodes.add(n.otp);
                active.add(n.otp);
            }
        }
        tick = ticker.scheduleAtFixedRate(this::tick, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * {@code startGracefulFailover} (src/docs/couchbase.md §5): the nodes' actives go to their first replicas elsewhere
     * (each chain without the nodes, shifted left), through the same task (subtype gracefulFailover); then
     * the nodes are failed over ({@code inactiveFailed}) and stay members until a rebalance ejects them.
     */
    private void gracefulFailover(HttpExchange ex, Map<String, String> query, List<String> otps) throws IOException {
        if (!uuidOk(ex, query)) {
            return;
        }
        if (running) {
            send(ex, 503, "Rebalance running.", "text/plain"); // in_progress (menelaus_web_cluster.erl:960-963)
            return;
        }
        if (recoveryMode) {
            send(ex, 503, "Cluster is in recovery mode.", "text/plain"); // in_recovery (menelaus_web_cluster.erl:964-965)
            return;
        }
        if (otps.isEmpty()) {
            send(ex, 400, "No server specified.", "text/plain");
            return;
        }
        for (String otp : otps) {
            Node n = nodes.stream().filter(x -> x.otp.equals(otp)).findFirst().orElse(null);
            if (n == null) {
                send(ex, 400, "Unknown server given.", "text/plain");
                return;
            }
            if (!n.membership.equals("active")) {
                send(ex, 400, "Inactive server given.", "text/plain");
                return;
            }
            if (!n.kv()) {
                send(ex, 400, "Failover cannot be done gracefully for a node without data service. Use hard failover.", "text/plain");
                return;
            }
        }
        if (buckets.stream().anyMatch(b -> b.map.length > 0 && b.replicas == 0)) {
            send(ex, 400, "Failover cannot be done gracefully (would lose vbuckets).", "text/plain");
            return;
        }
        Set<String> failing = Set.copyOf(otps);
        startTask("gracefulFailover", Set.of(), failing, bucket -> {
            String[][] target = new String[bucket.map.length][];
            for (int v = 0; v < bucket.map.length; v++) {
                String[] chain = new String[bucket.map[v].length];
                int k = 0;
                for (String x : bucket.map[v]) {
                    if (x != null && !failing.contains(x)) {
                        chain[k++] = x;
                    }
                }
                target[v] = chain;
            }
            return target;
        });
        send(ex, 200, "", null);
    }

    private static List<String> all(String raw, String name) {
        List<String> out = new ArrayList<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0 && URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8).equals(name)) {
                out.add(URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** Moves up to {@code movesPerTick} vBuckets of the first bucket not done yet. */
    private synchronized void tick() {
        if (!running) {
            return;
        }
        if (nodes.stream().anyMatch(n -> n.status.equals("unhealthy") && !ejecting.contains(n.otp))) {
            // a node that is down makes the rebalance fail once it needs it (ns_orchestrator.erl:1733-1738)
            fail("Rebalance failed. See logs for detailed reason. You can try again.");
            return;
        }
        int budget = movesPerTick;
        for (Bucket b : buckets) {
            if (b.target == null) {
                continue;
            }
            for (int v = 0; v < b.map.length && budget > 0; v++) {
                if (!java.util.Arrays.equals(b.map[v], b.target[v])) {
                    b.map[v] = b.target[v].clone();
                    movesDone++;
                    budget--;
                    if (failAfterMoves >= 0 && movesDone >= failAfterMoves) {
                        failAfterMoves = -1;
                        fail("Rebalance failed. See logs for detailed reason. You can try again.");
                        return;
                    }
                }
            }
            if (budget == 0) {
                return;
            }
        }
        if (subtype.equals("rebalance") && !ejectedOthers) {
            // the rebalancer ejects the nodes other than the orchestrator's own before it returns, so they
            // leave while the task still says running (ns_rebalancer.erl:527-530); the orchestrator's node
            // leaves after the status changes (ns_orchestrator.erl)
            ejectedOthers = true;
            List<Node> go = nodes.stream().filter(n -> ejecting.contains(n.otp) && !n.otp.equals(master)).toList();
            nodes.removeAll(go);
            go.forEach(this::leave);
            return;
        }
        // every bucket is at its target
        running = false;
        tick.cancel(false);
        statusId = UUID.randomUUID().toString().replace("-", "");
        if (subtype.equals("gracefulFailover")) {
            nodes.stream().filter(n -> failingOver.contains(n.otp)).forEach(n -> n.membership = "inactiveFailed");
            subtype = "rebalance";
            failingOver = Set.of();
            buckets.forEach(b -> b.target = null);
            return;
        }
        List<Node> go = nodes.stream().filter(n -> ejecting.contains(n.otp)).toList();
        nodes.removeAll(go);
        go.forEach(this::leave); // restarts uninitialised on the same port (see Node.left)
        buckets.forEach(b -> b.target = null);
        ejecting = Set.of();
    }

    private void fail(String message) {
        running = false;
        statusId = UUID.randomUUID().toString().replace("-", "");
        if (tick != null) {
            tick.cancel(false);
        }
        lastError = message;
        lastReport = UUID.randomUUID().toString().replace("-", "");
        reports.put(lastReport, "{\"completionMessage\":\"" + message.replace("\"", "'") + "\",\"movesDone\":" + movesDone + "}");
        finishBucketsPartially();
    }

    /** After a stop or a failure: what moved stays moved; the nodes stay members. */
    private void finishBucketsPartially() {
        buckets.forEach(b -> b.target = null);
        ejecting = Set.of();
        subtype = "rebalance";
        failingOver = Set.of();
    }

    private List<Node> kvNodes() {
        return nodes.stream().filter(n -> n.kv() && !n.membership.equals("inactiveFailed")).toList();
    }

    /** The emulator's own map rule (see the class comment). */
    private static String[][] balancedMap(List<Node> survivors, Bucket b) {
        List<String> s = survivors.stream().map(n -> n.otp).sorted().toList();
        int n = s.size();
        int v = b.items.length;
        int r = Math.min(b.replicas, n - 1);
        String[][] out = new String[v][b.replicas + 1];
        Map<String, Integer> actives = new HashMap<>();
        Map<String, Integer> reps = new HashMap<>();
        s.forEach(x -> {
            actives.put(x, 0);
            reps.put(x, 0);
        });
        int capA = (v + n - 1) / n;
        int capR = (r * v + n - 1) / n;
        if (b.map == null) {
            // a fresh bucket: actives round the ring, each vBucket's replicas on the next nodes
            for (int k = 0; k < v; k++) {
                for (int pos = 0; pos <= r; pos++) {
                    out[k][pos] = s.get((k + pos) % n);
                }
            }
            return out;
        }
        String[][] cur = b.map;
        for (int k = 0; k < v; k++) {
            String a = cur[k].length > 0 ? cur[k][0] : null;
            if (a == null || !actives.containsKey(a) || actives.get(a) >= capA) {
                a = null;
                for (String x : s) {
                    if (a == null || actives.get(x) < actives.get(a)) {
                        a = x;
                    }
                }
            }
            actives.merge(a, 1, Integer::sum);
            out[k][0] = a;
        }
        for (int k = 0; k < v; k++) {
            List<String> chain = new ArrayList<>();
            for (int pos = 1; pos < cur[k].length; pos++) {
                String x = cur[k][pos];
                if (x != null && reps.containsKey(x) && !x.equals(out[k][0]) && chain.size() < r && reps.get(x) < capR) {
                    chain.add(x);
                    reps.merge(x, 1, Integer::sum);
                }
            }
            while (chain.size() < r) {
                String best = null;
                for (String x : s) {
                    if (!x.equals(out[k][0]) && !chain.contains(x) && (best == null || reps.get(x) < reps.get(best))) {
                        best = x;
                    }
                }
                chain.add(best);
                reps.merge(best, 1, Integer::sum);
            }
            for (int pos = 0; pos < chain.size(); pos++) {
                out[k][pos + 1] = chain.get(pos);
            }
        }
        return out;
    }

    private Bucket bucket(String name) {
        return buckets.stream().filter(b -> b.name.equals(name)).findFirst().orElseThrow();
    }

    private static List<String> list(String csv) {
        List<String> out = new ArrayList<>();
        if (csv != null) {
            for (String x : csv.split(",")) {
                if (!x.isBlank()) {
                    out.add(x.strip());
                }
            }
        }
        return out;
    }

    private static Map<String, String> form(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
            String val = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, val);
        }
        return out;
    }

    private static void json(HttpExchange ex, Object node) throws IOException {
        send(ex, 200, JSON.writeValueAsString(node), "application/json");
    }

    private static void send(HttpExchange ex, int code, String body, String type) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        if (type != null) {
            ex.getResponseHeaders().set("Content-Type", type);
        }
        if (code == 401) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"Couchbase Server Admin / REST\"");
        }
        ex.sendResponseHeaders(code, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        }
    }

    /** For messages: "x%". */
    static String pct(double p) {
        return String.format(Locale.ROOT, "%.0f%%", p);
    }
}
