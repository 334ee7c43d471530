package io.tabletop.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An emulator of OpenMLDB's nameserver, corrected from OpenMLDB's own source at tag v0.9.3 (issue 29); never
 * from Tabletop's connector or planner. "ns" below is {@code src/nameserver/name_server_impl.cc} at v0.9.3.
 *
 * <p>Each nameserver is an HTTP listener on its own loopback address that registers itself in a real
 * ZooKeeper as OpenMLDB does ({@code ROOT/leader/lock_request…}, ephemeral sequential, holding its endpoint;
 * the first child in sorted order leads: dist_lock.cc:61); the tablets are registered under
 * {@code ROOT/nodes/ENDPOINT}. brpc's HTTP+JSON on {@code POST /NameServer/METHOD}: snake_case fields, enums as
 * names, unset fields omitted, {@code code} and {@code msg} in every reply.
 *
 * <p>Modelled from the source, each with its line: FIFO task queues (ops wait kInited behind the op at the
 * front of their queue), ops that stay kDoing, follower offsets and the writes lost to a leader change,
 * ChangeLeader's candidate rules, the stale leader row left until RecoverTable, RecoverTable's child op,
 * Migrate's and AddReplica's kAddTableInfo failure, refusals from kOffline tablets, OfflineEndpoint and
 * auto_failover, a nameserver crash whose lock node lingers for the ZooKeeper session timeout, op history
 * lost on failover and unfinished ops recovered from ZooKeeper, and auth as 0.9.0 / 0.9.1+ behave.
 */
public final class NameServerEmulator implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    // Task lists of each op type, as the Create*Task functions build them (ns v0.9.3):
    // CreateMigrateTask ns:4744-4850
    private static final List<String> MIGRATE_TASKS = List.of("kPauseSnapshot", "kSendSnapshot", "kRecoverSnapshot", "kLoadTable",
            "kAddReplica", "kAddTableInfo", "kCheckBinlogSyncProgress", "kDelReplica", "kUpdateTableInfo", "kDropTable");
    // CreateChangeLeaderOPTask ns:5592-5631
    private static final List<String> CHANGE_LEADER_TASKS = List.of("kSelectLeader", "kChangeLeader", "kUpdateLeaderInfo");
    // CreateAddReplicaOPTask ns:4514-4595
    private static final List<String> ADD_REPLICA_TASKS = List.of("kPauseSnapshot", "kSendSnapshot", "kLoadTable", "kAddReplica",
            "kRecoverSnapshot", "kAddTableInfo", "kCheckBinlogSyncProgress", "kUpdatePartitionStatus");
    // CreateDelReplicaOPTask ns:5355-5392
    private static final List<String> DEL_REPLICA_TASKS = List.of("kDelReplica", "kDelTableInfo", "kDropTable");
    // CreateOfflineReplicaTask ns:5459-5500
    private static final List<String> OFFLINE_REPLICA_TASKS = List.of("kDelReplica", "kUpdatePartitionStatus");
    // CreateUpdatePartitionStatusOPTask ns:6649-6675
    private static final List<String> UPDATE_STATUS_TASKS = List.of("kUpdatePartitionStatus");
    // CreateReAddReplicaSimplifyTask ns:6326-6375 (kDropTableRemote only for a replica cluster)
    private static final List<String> READD_SIMPLIFY_TASKS = List.of("kAddReplica", "kCheckBinlogSyncProgress", "kUpdatePartitionStatus");
    // CreateReAddReplicaWithDropTask ns:6080-6160
    private static final List<String> READD_WITH_DROP_TASKS = List.of("kPauseSnapshot", "kDropTable", "kSendSnapshot", "kLoadTable",
            "kAddReplica", "kRecoverSnapshot", "kCheckBinlogSyncProgress", "kUpdatePartitionStatus");
    /** INVALID_PARENT_ID is UINT64_MAX; ops are sorted by it unsigned on recovery (ns:1000-1009). */
    private static final long INVALID_PARENT_ID = -1L;
    /** task_vec_ is sized name_server_task_max_concurrency (8) + ..._for_replica_cluster (2): ns:1563, flags.cc:56-58. */
    private static final int MAX_CONCURRENCY = 8;
    private static final int QUEUES = MAX_CONCURRENCY + 2;
    private static final Set<String> MUTATING = Set.of("Migrate", "ChangeLeader", "RecoverTable", "AddReplicaNS", "DelReplicaNS",
            "ConfSet", "OfflineEndpoint", "CancelOP", "DeleteOP");

    static {
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    /** How the nameserver checks the {@code Authorization} header. */
    public enum AuthMode {
        /** 0.9.0 (and ≤0.8.5): no authenticator unless skip_grant_tables=false (v0.9.0 openmldb.cc:152); any or no header. */
        NONE,
        /**
         * 0.9.1+ with the default skip_grant_tables=true (flags.cc:189): an authenticator is installed
         * (openmldb.cc:150-154) but VerifyCredential returns 0 for any string (brpc_authenticator.cc:41-43); brpc
         * still refuses a request without an Authorization header (brpc http_rpc_protocol.cpp VerifyHttpRequest).
         */
        SKIP_GRANT,
        /** skip_grant_tables=false: only the one credential; a wrong or missing header closes the connection. */
        CHECK
    }

    /** One replica row of a partition ({@code PartitionMeta}, name_server.proto:41-52) and the tablet's copy. */
    private static final class Meta {
        String endpoint;
        boolean leader;
        boolean alive = true;
        /** is_alive was set explicitly (brpc then prints it even when true). */
        boolean aliveSet;
        /** the tablet replica's binlog offset = records it holds (one record per offset). */
        long offset;
        /** whether this follower replicates from the leader (FollowOfNoOne stops it: ns:7340). */
        boolean following = true;
        // what the last status refresh saw (UpdateTableStatusFun ns:5278-5330); absent until the first one
        boolean reported;
        long shownOffset;
        boolean tabletHasPartition = true;

        Meta(String endpoint, boolean leader, long offset) {
            this.endpoint = endpoint;
            this.leader = leader;
            this.offset = offset;
        }
    }

    private static final class Part {
        final List<Meta> metas = new ArrayList<>();
        /** the highest offset the leader of this partition acknowledged. */
        long committed;
        /** offset at which the current leader's term began (TermPair, ns:7550-7552). */
        long termStart;
        boolean reported;
        long shownRecords;
    }

    private static final class Table {
        final String db;
        final String name;
        final int tid;
        final int replicas;
        final List<Part> partitions = new ArrayList<>();

        Table(String db, String name, int tid, int replicas) {
            this.db = db;
            this.name = name;
            this.tid = tid;
            this.replicas = replicas;
        }
    }

    private static final class Op {
        long id;
        String type;
        String db;
        String name;
        int pid;
        long parentId = INVALID_PARENT_ID;
        int queue;
        List<String> tasks = new ArrayList<>();
        int task;
        String status = "kInited";
        long start;
        long end;
        boolean held;
        final Map<String, String> data = new TreeMap<>();

        String taskType() {
            // ShowOPStatus: "-" when kInited or the task list is empty; a done op's list is cleared (ns:1926-1931, 2951-2956)
            if (status.equals("kInited") || status.equals("kDone") || tasks.isEmpty() || task >= tasks.size()) {
                return "-";
            }
            return tasks.get(task);
        }

        String json() {
            ObjectNode o = JSON.createObjectNode().put("op_id", id).put("op_type", type).put("db", db).put("name", name).put("pid", pid)
                    .put("parent_id", parentId).put("vec_idx", queue).put("task_index", task).put("task_status", status)
                    .put("start_time", start).put("end_time", end);
            ArrayNode ts = o.putArray("tasks");
            tasks.forEach(ts::add);
            ObjectNode d = o.putObject("data");
            data.forEach(d::put);
            return o.toString();
        }

        static Op parse(byte[] b) throws IOException {
            JsonNode n = JSON.readTree(b);
            Op op = new Op();
            op.id = n.path("op_id").asLong();
            op.type = n.path("op_type").asText();
            op.db = n.path("db").asText();
            op.name = n.path("name").asText();
            op.pid = n.path("pid").asInt();
            op.parentId = n.path("parent_id").asLong();
            op.queue = n.path("vec_idx").asInt();
            op.task = n.path("task_index").asInt();
            op.status = n.path("task_status").asText();
            op.start = n.path("start_time").asLong();
            op.end = n.path("end_time").asLong();
            n.path("tasks").forEach(t -> op.tasks.add(t.asText()));
            n.path("data").fields().forEachRemaining(e -> op.data.put(e.getKey(), e.getValue().asText()));
            return op;
        }
    }

    /** One nameserver process: its listener and its lock node. */
    private static final class Ns {
        final HttpServer http;
        final String endpoint;
        String lockNode;
        boolean down;

        Ns(HttpServer http) {
            this.http = http;
            this.endpoint = http.getAddress().getHostString() + ":" + http.getAddress().getPort();
        }
    }

    private final String root;
    private final String authorization;
    private final List<org.apache.zookeeper.data.ACL> acl;
    private final ZooKeeper zk;
    private final List<Ns> servers = new ArrayList<>();
    private final Map<String, String> tablets = new LinkedHashMap<>();
    private final Set<String> lagging = new HashSet<>();
    private final List<Table> tables = new ArrayList<>();
    /** task_vec_: the FIFO op queues (ns:1563). */
    private final List<ArrayDeque<Op>> queues = new ArrayList<>();
    /** done_op_list_: finished ops, in memory only (ns:1924-1934). */
    private final List<Op> doneOps = new ArrayList<>();
    private final List<String> requests = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Integer> mutating = new TreeMap<>();
    /** tablets gone offline and waiting for OnTabletOffline: endpoint → when (ns:1175-1185). */
    private final Map<String, Long> offlineSince = new LinkedHashMap<>();
    private final ExecutorService http = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "nameserver-emulator-http");
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nameserver-emulator-ops");
        t.setDaemon(true);
        return t;
    });
    private boolean autoFailover = true;
    private long nextOp = 1;
    private String failAt;
    private String holdAt;
    private boolean failRecover;
    private AuthMode authMode = AuthMode.CHECK;
    /** name_server_task_concurrency, default 2 (flags.cc:55; the shipped template leaves it commented at 2). */
    private int taskConcurrency = 2;
    /** zk_session_timeout: 10 s in release/conf/nameserver.flags.template:19 (flags.cc:30 defaults to 2 s). */
    private long sessionTimeoutMillis = 10_000;
    /** tablet_heartbeat_timeout: 60 s in release/conf/nameserver.flags.template:21 (flags.cc:32: 5 min). */
    private long tabletHeartbeatTimeoutMillis = 60_000;
    /** the nameserver that holds the lock and has recovered (running_ = true, ns:5676). */
    private Ns running;
    private Ns recovering;
    private long lost;
    private int inFlightMax;
    private int queuedMax;

    /**
     * @param zkConnect     ZooKeeper, {@code 127.0.0.1:PORT}
     * @param root          OpenMLDB's {@code zk_root_path}
     * @param authorization the {@code Authorization} value accepted in {@link AuthMode#CHECK} (brpc: {@code sdefault}, or {@code u<user>:1<sha256 hex>})
     * @param nameservers   how many nameservers register (the first is the leader)
     * @param tickMillis    the op thread's period: one task per queue per tick
     */
    public NameServerEmulator(String zkConnect, String root, String authorization, int nameservers, long tickMillis) throws Exception {
        this(zkConnect, root, authorization, nameservers, tickMillis, null);
    }

    /** As above; with {@code zkDigest} ({@code user:password}, OpenMLDB's {@code --zk_cert}) every node is readable by that user only. */
    public NameServerEmulator(String zkConnect, String root, String authorization, int nameservers, long tickMillis, String zkDigest)
            throws Exception {
        this.root = root;
        this.authorization = authorization;
        for (int i = 0; i < QUEUES; i++) {
            queues.add(new ArrayDeque<>());
        }
        CountDownLatch connected = new CountDownLatch(1);
        this.zk = new ZooKeeper(zkConnect, 15_000, e -> {
            if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(20, TimeUnit.SECONDS)) {
            throw new IOException("ZooKeeper at " + zkConnect + " did not answer");
        }
        if (zkDigest != null) {
            zk.addAuthInfo("digest", zkDigest.getBytes(StandardCharsets.UTF_8));
        }
        this.acl = zkDigest == null ? ZooDefs.Ids.OPEN_ACL_UNSAFE : ZooDefs.Ids.CREATOR_ALL_ACL;
        // zk paths as ns:1480-1492 lays them out
        for (String p : List.of(root, root + "/leader", root + "/nodes", root + "/op", root + "/op/op_data", root + "/config")) {
            try {
                zk.create(p, new byte[0], acl, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException e) {
                // already there
            }
        }
        for (int i = 0; i < nameservers; i++) {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.2." + (101 + i), 0), 0);
            Ns ns = new Ns(s);
            s.createContext("/", ex -> handle(ns, ex));
            s.setExecutor(http);
            s.start();
            servers.add(ns);
            ns.lockNode = zk.create(root + "/leader/lock_request", ns.endpoint.getBytes(StandardCharsets.UTF_8), acl,
                    CreateMode.EPHEMERAL_SEQUENTIAL);
        }
        persistAutoFailover();
        running = servers.isEmpty() ? null : servers.get(0); // the cluster was up before the test began
        ticker.scheduleAtFixedRate(this::tick, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
    }

    // ---- building and driving the cluster -----------------------------------------------------------

    /** The HTTP+JSON endpoint of every nameserver ("127.0.2.101:PORT"), crashed ones included. */
    public synchronized List<String> endpoints() {
        return servers.stream().map(s -> s.endpoint).toList();
    }

    /** A tablet at {@code 127.0.2.N:10921}, healthy, registered under {@code ROOT/nodes}. */
    public synchronized String addTablet(int n) throws Exception {
        String ep = "127.0.2." + n + ":10921";
        tablets.put(ep, "kHealthy");
        offlineSince.remove(ep);
        try {
            zk.create(root + "/nodes/" + ep, ("startup_" + ep).getBytes(StandardCharsets.UTF_8), acl, CreateMode.EPHEMERAL);
        } catch (KeeperException.NodeExistsException e) {
            // registered already
        }
        return ep;
    }

    /**
     * A table whose partition p has its leader on tablet p mod N and followers on the next ones round the
     * ring (N = the tablets in order), {@code rows} records per partition (every replica at offset {@code rows}).
     * {@code db} "" makes a legacy default-database table ({@code table_info_}).
     */
    public synchronized void addTable(String db, String name, int partitions, int replicas, long rows) {
        Table t = new Table(db, name, 10 + tables.size(), replicas);
        List<String> eps = new ArrayList<>(tablets.keySet());
        for (int p = 0; p < partitions; p++) {
            Part part = new Part();
            for (int r = 0; r < replicas; r++) {
                part.metas.add(new Meta(eps.get((p + r) % eps.size()), r == 0, rows));
            }
            part.committed = rows;
            t.partitions.add(part);
        }
        tables.add(t);
    }

    public synchronized void setAutoFailover(boolean on) {
        autoFailover = on;
        persistAutoFailover();
    }

    public synchronized boolean autoFailover() {
        return autoFailover;
    }

    /** The next op fails when it reaches this task. */
    public synchronized void failAtTask(String taskType) {
        failAt = taskType;
    }

    /** The next op that reaches this task stays kDoing there (a real op can, for hours: ns:1993-2002) until {@link #release()}. */
    public synchronized void holdAtTask(String taskType) {
        holdAt = taskType;
    }

    /** Lets a held op go on (and forgets a hold that no op reached yet). */
    public synchronized void release() {
        holdAt = null;
        queues.forEach(q -> q.forEach(o -> o.held = false));
        notifyAll();
    }

    /** Whether an op is held kDoing now. */
    public synchronized boolean held() {
        return queues.stream().anyMatch(q -> q.stream().anyMatch(o -> o.held));
    }

    /** The next RecoverTable fails at its kRecoverTable task (RecoverEndpointTable fails: ns:5775-5930); the stale row stays. */
    public synchronized void failRecoverTable() {
        failRecover = true;
    }

    /** name_server_task_concurrency (flags.cc:55, default 2): how many queues the ops of a table spread over. */
    public synchronized void setTaskConcurrency(int n) {
        if (n < 1 || n > MAX_CONCURRENCY) {
            throw new IllegalArgumentException("1.." + MAX_CONCURRENCY);
        }
        taskConcurrency = n;
    }

    /** zk_session_timeout: how long a crashed nameserver's lock node lingers (default 10 s as the shipped template). */
    public synchronized void setSessionTimeoutMillis(long millis) {
        sessionTimeoutMillis = millis;
    }

    /** tablet_heartbeat_timeout: how long after a tablet's ZooKeeper node goes auto_failover acts (default 60 s as the template). */
    public synchronized void setTabletHeartbeatTimeoutMillis(long millis) {
        tabletHeartbeatTimeoutMillis = millis;
    }

    public synchronized void authMode(AuthMode mode) {
        authMode = mode;
    }

    public synchronized AuthMode authMode() {
        return authMode;
    }

    /** What the operator does after fixing the cause of a failed op: {@code deleteop} of the failed ops (and their ZooKeeper nodes). */
    public synchronized void deleteFailedOps() {
        for (Op o : doneOps) {
            if (o.status.equals("kFailed")) {
                deleteOpNode(o);
            }
        }
        doneOps.removeIf(o -> o.status.equals("kFailed"));
    }

    /**
     * A tablet stops: its ZooKeeper node goes and the nameserver marks it kOffline (ns:1175-1180). With
     * auto_failover off its partitions are left as they are (ns:1228-1232); with it on, once
     * tablet_heartbeat_timeout has passed (ns:1214-1219), its rows go not alive and OfflineEndpoint runs (ns:1228-1232).
     */
    public synchronized void stopTablet(String endpoint) throws Exception {
        tablets.put(endpoint, "kOffline");
        offlineSince.put(endpoint, System.currentTimeMillis());
        try {
            zk.delete(root + "/nodes/" + endpoint, -1);
        } catch (KeeperException.NoNodeException e) {
            // gone already
        }
    }

    /** Writes {@code records} to the partition's leader: its offset advances; followers catch up one tick later. */
    public synchronized void write(String db, String name, int pid, long records) {
        Part p = part(db, name, pid);
        Meta leader = aliveLeader(p);
        if (leader == null || !healthy(leader.endpoint)) {
            throw new IllegalStateException("no alive leader for " + db + "." + name + " pid " + pid);
        }
        leader.offset += records;
        p.committed = Math.max(p.committed, leader.offset);
    }

    /** Followers on this tablet stop catching up ({@code true}) or catch up again. */
    public synchronized void lag(String endpoint, boolean lagging) {
        if (lagging) {
            this.lagging.add(endpoint);
        } else {
            this.lagging.remove(endpoint);
        }
    }

    /** Records acknowledged by a leader and lost because a follower with a lower offset became leader. */
    public synchronized long lostRecords() {
        return lost;
    }

    /** Rows that are not alive (stale leaders, offline replicas), over all tables. */
    public synchronized int staleRows() {
        int n = 0;
        for (Table t : tables) {
            for (Part p : t.partitions) {
                n += (int) p.metas.stream().filter(m -> !m.alive).count();
            }
        }
        return n;
    }

    /** The highest number of ops asked for and not ended (kInited or kDoing) at the same time so far: what clients keep in flight. */
    public synchronized int opsQueuedMax() {
        return queuedMax;
    }

    /** The highest number of ops kDoing at the same time so far. */
    public synchronized int opsInFlightMax() {
        return inFlightMax;
    }

    /** Mutating calls received, per method (whatever the answer). */
    public synchronized Map<String, Integer> mutatingRequests() {
        return new TreeMap<>(mutating);
    }

    /** The partition's rows, e.g. {@code "127.0.2.1:10921 leader alive offset=1000"}. */
    public synchronized List<String> partition(String db, String name, int pid) {
        return part(db, name, pid).metas.stream()
                .map(m -> m.endpoint + (m.leader ? " leader" : " follower") + (m.alive ? " alive" : " stale") + " offset=" + m.offset).toList();
    }

    /** Endpoint → offset of each row of the partition. */
    public synchronized Map<String, Long> offsets(String db, String name, int pid) {
        Map<String, Long> out = new LinkedHashMap<>();
        part(db, name, pid).metas.forEach(m -> out.put(m.endpoint, m.offset));
        return out;
    }

    /** The children of {@code ROOT/leader} (lock nodes), sorted. */
    public synchronized List<String> lockNodes() throws Exception {
        List<String> c = new ArrayList<>(zk.getChildren(root + "/leader", false));
        Collections.sort(c);
        return c;
    }

    /** The leading nameserver hands over cleanly: its session closes (the lock node goes at once) and it stops. */
    public synchronized void failOverNameServer() throws Exception {
        Ns ns = leaderNs();
        if (ns == null) {
            return;
        }
        ns.down = true;
        ns.http.stop(0);
        deleteLock(ns);
        if (running == ns) {
            running = null;
        }
    }

    /**
     * The leading nameserver crashes: its listener goes at once, but its ephemeral lock node lingers until
     * ZooKeeper expires the session ({@code zk_session_timeout}); meanwhile a standby is not leader (300).
     */
    public synchronized void crashNameServer() {
        Ns ns = leaderNs();
        if (ns == null) {
            return;
        }
        ns.down = true;
        ns.http.stop(0);
        if (running == ns) {
            running = null;
        }
        ticker.schedule(() -> {
            synchronized (this) {
                deleteLock(ns);
            }
        }, sessionTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** Per tablet endpoint: {replicas, leaders} that are alive. */
    public synchronized Map<String, int[]> loads() {
        Map<String, int[]> out = new LinkedHashMap<>();
        tablets.keySet().forEach(ep -> out.put(ep, new int[2]));
        for (Table t : tables) {
            for (Part p : t.partitions) {
                for (Meta m : p.metas) {
                    if (m.alive) {
                        int[] a = out.computeIfAbsent(m.endpoint, k -> new int[2]);
                        a[0]++;
                        a[1] += m.leader ? 1 : 0;
                    }
                }
            }
        }
        return out;
    }

    public List<String> requests() {
        return List.copyOf(requests);
    }

    /** Waits until {@code condition} (read under the emulator's lock, after each tick) holds; false after {@code millis}. */
    public synchronized boolean await(java.util.function.BooleanSupplier condition, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left); // tick() notifies
        }
        return true;
    }

    /** Waits until no op is kInited or kDoing; false after {@code millis}. */
    public synchronized boolean awaitOpsIdle(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (queues.stream().anyMatch(q -> q.stream().anyMatch(o -> o.status.equals("kInited") || o.status.equals("kDoing")))) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left); // tick() notifies
        }
        return true;
    }

    @Override
    public void close() throws Exception {
        ticker.shutdownNow();
        for (Ns s : servers) {
            s.http.stop(0);
        }
        http.shutdownNow();
        zk.close();
    }

    // ---- HTTP ---------------------------------------------------------------------------------------

    private void handle(Ns self, HttpExchange ex) throws IOException {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        AuthMode mode;
        synchronized (this) {
            mode = authMode;
        }
        boolean ok = switch (mode) {
            case NONE -> true; // no options.auth: brpc's VerifyHttpRequest passes everything
            case SKIP_GRANT -> auth != null; // brpc_authenticator.cc:41-43 accepts any string, brpc needs the header
            case CHECK -> authorization.equals(auth);
        };
        if (!ok) {
            // brpc fails the socket: no reply, the connection closes. The JDK server closes the connection when
            // a handler throws before answering.
            throw new IOException("authentication failed");
        }
        String path = ex.getRequestURI().getPath();
        requests.add(path);
        String method = path.startsWith("/NameServer/") ? path.substring("/NameServer/".length()) : "";
        ObjectNode reply;
        try (ex) {
            byte[] body = ex.getRequestBody().readAllBytes();
            JsonNode req = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
            synchronized (this) {
                if (method.isEmpty()) {
                    send(ex, 404, "not found");
                    return;
                }
                if (MUTATING.contains(method)) {
                    mutating.merge(method, 1, Integer::sum);
                }
                if (self.down || running != self || !holdsLock(self)) {
                    // every RPC starts with `if (!running_) return kNameserverIsNotLeader` (e.g. ns:2449-2453); a
                    // standby, and a new leader until Recover() is done (OnLocked ns:5633-5676), answer 300
                    reply = code(300, "nameserver is not leader");
                } else {
                    reply = call(method, req);
                }
            }
            if (reply == null) {
                send(ex, 404, "Fail to find method on `" + path + "'");
                return;
            }
            send(ex, 200, JSON.writeValueAsString(reply));
        }
    }

    /** The endpoint in the first lock node in sorted order (dist_lock.cc:61), or null. */
    private String lockHolder() {
        try {
            List<String> children = new ArrayList<>(zk.getChildren(root + "/leader", false));
            Collections.sort(children);
            if (children.isEmpty()) {
                return null;
            }
            return new String(zk.getData(root + "/leader/" + children.get(0), false, null), StandardCharsets.UTF_8);
        } catch (KeeperException | InterruptedException e) {
            return null;
        }
    }

    private boolean holdsLock(Ns ns) {
        return ns.endpoint.equals(lockHolder());
    }

    private Ns leaderNs() {
        String holder = lockHolder();
        return servers.stream().filter(s -> s.endpoint.equals(holder)).findFirst().orElse(null);
    }

    private void deleteLock(Ns ns) {
        try {
            zk.delete(ns.lockNode, -1);
        } catch (KeeperException.NoNodeException e) {
            // gone
        } catch (KeeperException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode code(int code, String msg) {
        return JSON.createObjectNode().put("code", code).put("msg", msg);
    }

    private ObjectNode call(String method, JsonNode r) {
        return switch (method) {
            case "ShowTablet" -> showTablet();
            case "ShowDatabase" -> {
                ObjectNode o = code(0, "ok");
                ArrayNode dbs = o.putArray("db");
                tables.stream().map(t -> t.db).filter(d -> !d.isEmpty() && !d.startsWith("__") && !d.equals("INFORMATION_SCHEMA")).distinct()
                        .forEach(dbs::add);
                yield o;
            }
            case "ShowTable" -> showTable(r);
            case "ConfGet" -> {
                ObjectNode o = code(0, "ok");
                o.putArray("conf").addObject().put("key", "auto_failover").put("value", String.valueOf(autoFailover));
                yield o;
            }
            case "ConfSet" -> confSet(r);
            case "ShowOPStatus" -> showOps(r);
            case "Migrate" -> migrate(r);
            case "ChangeLeader" -> changeLeader(r);
            case "RecoverTable" -> recoverTable(r);
            case "AddReplicaNS" -> addReplica(r);
            case "DelReplicaNS" -> delReplica(r);
            case "OfflineEndpoint" -> offlineEndpoint(r);
            case "CancelOP" -> cancelOp(r);
            default -> null;
        };
    }

    private ObjectNode showTablet() {
        ObjectNode o = code(0, "ok");
        ArrayNode ts = o.putArray("tablets");
        tablets.forEach((ep, st) -> ts.addObject().put("endpoint", ep).put("state", st).put("age", 86_400_000L));
        return o;
    }

    // ConfSet ns:2379-2425: key and value must be set, value true/false (any case), key auto_failover only (307
    // otherwise); the value is persisted at ROOT/config/auto_failover, which a new leader re-reads (ns:611-621).
    private ObjectNode confSet(JsonNode r) {
        String key = r.path("conf").path("key").asText("");
        String value = r.path("conf").path("value").asText("");
        if (key.isEmpty() || value.isEmpty()) { // ns:2390-2395
            return code(307, "invalid parameter");
        }
        value = value.toLowerCase(java.util.Locale.ROOT); // ns:2396
        if (!value.equals("true") && !value.equals("false")) { // ns:2397-2402
            return code(307, "invalid parameter");
        }
        if (!key.equals("auto_failover")) { // ns:2415-2420
            return code(307, "invalid parameter");
        }
        autoFailover = value.equals("true");
        persistAutoFailover();
        return code(0, "ok");
    }

    private void persistAutoFailover() {
        String node = root + "/config/auto_failover";
        byte[] v = String.valueOf(autoFailover).getBytes(StandardCharsets.UTF_8);
        try {
            try {
                zk.setData(node, v, -1);
            } catch (KeeperException.NoNodeException e) {
                zk.create(node, v, acl, CreateMode.PERSISTENT);
            }
        } catch (KeeperException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    // ShowTable ns:2984-3017: the legacy default-database tables (table_info_) whose name matches come first,
    // whatever db asked for (ns:2994-3007); then the tables of `db` (or every db with show_all).
    private ObjectNode showTable(JsonNode r) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode infos = o.putArray("table_info");
        boolean all = r.path("show_all").asBoolean(false);
        String db = r.path("db").asText("");
        String name = r.has("name") ? r.path("name").asText() : null;
        List<Table> out = new ArrayList<>();
        tables.stream().filter(t -> t.db.isEmpty() && (name == null || t.name.equals(name))).forEach(out::add);
        tables.stream().filter(t -> !t.db.isEmpty() && (all || t.db.equals(db)) && (name == null || t.name.equals(name))).forEach(out::add);
        for (Table t : out) {
            ObjectNode ti = infos.addObject();
            ti.put("name", t.name).put("tid", t.tid).put("partition_num", t.partitions.size()).put("replica_num", t.replicas).put("db", t.db);
            ti.put("storage_mode", "kMemory");
            ArrayNode parts = ti.putArray("table_partition");
            for (int p = 0; p < t.partitions.size(); p++) {
                Part part = t.partitions.get(p);
                ObjectNode tp = parts.addObject().put("pid", p);
                ArrayNode metas = tp.putArray("partition_meta");
                for (Meta m : part.metas) {
                    ObjectNode mo = metas.addObject().put("endpoint", m.endpoint).put("is_leader", m.leader);
                    if (!m.alive || m.aliveSet) {
                        mo.put("is_alive", m.alive); // brpc prints a set field; is_alive defaults to true unset
                    }
                    if (m.reported) { // set by the status refresh only (ns:5300-5327)
                        mo.put("offset", m.shownOffset).put("record_cnt", m.shownOffset).put("record_byte_size", m.shownOffset * 256)
                                .put("diskused", 0);
                    }
                    if (m.reported || !m.tabletHasPartition) {
                        mo.put("tablet_has_partition", m.tabletHasPartition);
                    }
                }
                if (part.reported) { // from the alive leader's status (ns:5318-5324)
                    tp.put("record_cnt", part.shownRecords).put("record_byte_size", part.shownRecords * 256).put("diskused", 0);
                }
            }
        }
        o.put("code", 0).put("msg", "ok");
        return o;
    }

    // ShowOPStatus ns:2897-2961: done_op_list_ then every queue, filtered, sorted by op_id
    private ObjectNode showOps(JsonNode r) {
        ObjectNode o = code(0, "ok");
        ArrayNode list = o.putArray("op_status");
        TreeMap<Long, Op> map = new TreeMap<>();
        List<Op> all = new ArrayList<>(doneOps);
        queues.forEach(all::addAll);
        for (Op op : all) {
            if (r.has("op_id") && op.id != r.path("op_id").asLong()) {
                continue;
            }
            if (r.has("name") && !op.name.equals(r.path("name").asText())) {
                continue;
            }
            if (r.has("db") && !op.db.equals(r.path("db").asText())) {
                continue;
            }
            if (r.has("pid") && op.pid != r.path("pid").asInt()) {
                continue;
            }
            map.putIfAbsent(op.id, op);
        }
        for (Op op : map.values()) {
            list.addObject().put("op_id", op.id).put("op_type", op.type).put("name", op.name).put("db", op.db).put("pid", op.pid)
                    .put("status", op.status).put("for_replica_cluster", 0).put("task_type", op.taskType())
                    .put("start_time", op.start).put("end_time", op.end);
        }
        return o;
    }

    /** GetTableInfoUnlock: db "" is the legacy table_info_. */
    private Table table(String db, String name) {
        return tables.stream().filter(t -> t.db.equals(db) && t.name.equals(name)).findFirst().orElse(null);
    }

    private Table table(JsonNode r) {
        return table(r.path("db").asText(""), r.path("name").asText());
    }

    private Part part(String db, String name, int pid) {
        Table t = table(db, name);
        if (t == null || pid < 0 || pid >= t.partitions.size()) {
            throw new IllegalArgumentException("no partition " + db + "." + name + " pid " + pid);
        }
        return t.partitions.get(pid);
    }

    private boolean healthy(String ep) {
        return "kHealthy".equals(tablets.get(ep));
    }

    private static Meta on(Part p, String ep) {
        return p.metas.stream().filter(m -> m.endpoint.equals(ep)).findFirst().orElse(null);
    }

    private static Meta aliveLeader(Part p) {
        return p.metas.stream().filter(m -> m.leader && m.alive).findFirst().orElse(null);
    }

    // ---- the mutating RPCs ----------------------------------------------------------------------------

    // Migrate ns:4597-4706
    private ObjectNode migrate(JsonNode r) {
        if (autoFailover) { // ns:4606-4611
            return code(301, "auto_failover is enabled");
        }
        String src = r.path("src_endpoint").asText();
        String des = r.path("des_endpoint").asText();
        if (!healthy(src)) { // ns:4613-4619
            return code(318, "src_endpoint does not exist or not healthy");
        }
        if (!healthy(des)) { // ns:4620-4626
            return code(319, "des_endpoint does not exist or not healthy");
        }
        Table t = table(r);
        if (t == null) { // ns:4628-4633
            return code(100, "table does not exist");
        }
        List<Integer> pids = new ArrayList<>();
        r.path("pid").forEach(p -> pids.add(p.asInt()));
        for (int pid : pids) {
            // only alive rows count (ns:4646-4661); a pid that does not exist has no leader
            Part part = pid >= 0 && pid < t.partitions.size() ? t.partitions.get(pid) : new Part();
            String leader = null;
            boolean hasSrc = false;
            boolean hasDes = false;
            for (Meta m : part.metas) {
                if (m.alive) {
                    if (m.leader) {
                        leader = m.endpoint;
                    }
                    if (m.endpoint.equals(src)) {
                        hasSrc = true;
                    } else if (m.endpoint.equals(des)) {
                        hasDes = true; // a not-alive row on des is not seen here (ns:4653): the op fails at kAddTableInfo
                    }
                }
            }
            if (leader == null) { // ns:4662-4665
                return code(320, "leader endpoint is empty. name[" + t.name + "] pid[" + pid + "]");
            }
            if (leader.equals(src)) { // ns:4666-4670
                return code(320, "cannot migrate leader. name[" + t.name + "] pid[" + pid + "]");
            }
            if (!healthy(leader)) { // ns:4672-4678
                return code(320, "leader[" + leader + "] is offline. name[" + t.name + "] pid[" + pid + "]");
            }
            if (!hasSrc) { // ns:4679-4685
                return code(320, "src_endpoint[" + src + "] has not partition[" + pid + "]. name[" + t.name + "]");
            }
            if (hasDes) { // ns:4686-4691
                return code(320, "partition[" + pid + "] is already in des_endpoint[" + des + "]. name[" + t.name + "]");
            }
        }
        for (int pid : pids) { // CreateMigrateOP ns:4708-4740, AddOPData with the default concurrency (ns:4730)
            addOp("kMigrateOP", t, pid, MIGRATE_TASKS, Map.of("src", src, "des", des), taskConcurrency, INVALID_PARENT_ID);
        }
        return code(0, "ok");
    }

    // ChangeLeader ns:2445-2524
    private ObjectNode changeLeader(JsonNode r) {
        if (autoFailover) { // ns:2454-2459
            return code(301, "auto_failover is enabled");
        }
        Table t = table(r);
        if (t == null) { // ns:2465-2470
            return code(100, "table does not exist");
        }
        int pid = r.path("pid").asInt();
        if (pid < 0 || pid >= t.partitions.size()) { // ns:2471-2476
            return code(308, "pid does not exist");
        }
        Part part = t.partitions.get(pid);
        if (part.metas.size() == 1) { // ns:2482-2488
            return code(134, "no follower");
        }
        boolean hasCandidate = r.has("candidate_leader");
        int followers = 0;
        for (Meta m : part.metas) {
            if (m.alive) {
                if (!m.leader) {
                    followers++;
                } else if (!hasCandidate) { // ns:2492-2501
                    return code(309, "leader is alive");
                }
            }
        }
        if (followers == 0) { // ns:2505-2510
            return code(310, "no alive follower");
        }
        String candidate = "";
        if (hasCandidate && !r.path("candidate_leader").asText().equals("auto")) { // ns:2512-2515
            candidate = r.path("candidate_leader").asText();
        }
        if (createChangeLeaderOp(t, pid, candidate, taskConcurrency) < 0) { // ns:2516-2521
            return code(305, "create op failed");
        }
        return code(0, "ok");
    }

    /** CreateChangeLeaderOP ns:5502-5590: 0 with or without an op, -1 when the candidate is not a usable follower. */
    private int createChangeLeaderOp(Table t, int pid, String candidate, int concurrency) {
        Part part = t.partitions.get(pid);
        List<String> followers = new ArrayList<>();
        for (Meta m : part.metas) { // alive, not leader, on a healthy tablet (ns:5516-5528)
            if (m.alive && !m.leader && healthy(m.endpoint)) {
                followers.add(m.endpoint);
            }
        }
        if (followers.isEmpty()) { // ns:5548-5551: "table not found follower", no op, and the RPC answers ok
            return 0;
        }
        if (!candidate.isEmpty() && !followers.contains(candidate)) { // ns:5552-5557
            return -1;
        }
        Map<String, String> data = new TreeMap<>();
        data.put("followers", String.join(",", followers));
        if (!candidate.isEmpty()) {
            data.put("candidate", candidate);
        }
        addOp("kChangeLeaderOP", t, pid, CHANGE_LEADER_TASKS, data, concurrency, INVALID_PARENT_ID);
        return 0;
    }

    // RecoverTable ns:2672-2744
    private ObjectNode recoverTable(JsonNode r) {
        if (autoFailover) { // ns:2681-2686
            return code(301, "auto_failover is enabled");
        }
        String ep = r.path("endpoint").asText();
        if (!tablets.containsKey(ep)) { // ns:2692-2697
            return code(302, "endpoint does not exist");
        }
        if (!healthy(ep)) { // ns:2698-2702
            return code(303, "tablet is not healthy");
        }
        Table t = table(r);
        if (t == null) { // ns:2704-2709
            return code(100, "table does not exist");
        }
        int pid = r.path("pid").asInt();
        Meta m = pid >= 0 && pid < t.partitions.size() ? on(t.partitions.get(pid), ep) : null;
        if (m == null) { // ns:2736-2741
            return code(308, "pid does not exist");
        }
        if (m.alive) { // ns:2719-2726
            return code(311, "table is alive, need not recover");
        }
        createRecoverTableOp(t, pid, ep, m.leader);
        return code(0, "ok");
    }

    /** CreateRecoverTableOP / CreateRecoverTableOPTask ns:5693-5772: a stale leader row gets kRecoverTable only (ns:5740-5763). */
    private void createRecoverTableOp(Table t, int pid, String ep, boolean isLeader) {
        Part part = t.partitions.get(pid);
        List<String> tasks = new ArrayList<>();
        if (!isLeader) {
            Meta leader = aliveLeader(part);
            if (leader == null || leader.endpoint.equals(ep)) { // ns:5745-5752: no op is created, yet the RPC answers ok (ns:2742-2743)
                return;
            }
            tasks.add("kDelReplica");
        }
        tasks.add("kRecoverTable");
        addOp("kRecoverTableOP", t, pid, tasks, Map.of("endpoint", ep, "is_leader", String.valueOf(isLeader), "concurrency", String.valueOf(taskConcurrency)), taskConcurrency,
                INVALID_PARENT_ID);
    }

    // AddReplicaNS ns:4309-4395 (no auto_failover check)
    private ObjectNode addReplica(JsonNode r) {
        String ep = r.path("endpoint").asText();
        if (!healthy(ep)) { // ns:4326-4331
            return code(303, "tablet is not healthy");
        }
        Table t = table(r);
        if (t == null) { // ns:4332-4337
            return code(100, "table does not exist");
        }
        TreeSet<Integer> pids = pidGroup(r);
        if (pids.last() > t.partitions.size() - 1 || pids.first() < 0) { // ns:4338-4343
            return code(307, "invalid parameter");
        }
        for (int pid : pids) {
            if (on(t.partitions.get(pid), ep) != null) { // any row, alive or not: ns:4344-4358
                return code(317, "pid " + pid + " is exist in " + ep);
            }
        }
        for (int pid : pids) {
            if (aliveLeader(t.partitions.get(pid)) == null) { // CreateAddReplicaOPTask needs the leader (ns:4530-4540)
                return code(305, "create op failed");
            }
            // AddOPData(op_data, 1): every AddReplica op goes to queue 0 (ns:4386, 5038-5041)
            addOp("kAddReplicaOP", t, pid, ADD_REPLICA_TASKS, Map.of("endpoint", ep), 1, INVALID_PARENT_ID);
        }
        return code(0, "ok");
    }

    // DelReplicaNS ns:4849-4925 (no auto_failover check)
    private ObjectNode delReplica(JsonNode r) {
        Table t = table(r);
        if (t == null) { // ns:4866-4871
            return code(100, "table does not exist");
        }
        String ep = r.path("endpoint").asText();
        if (!healthy(ep)) { // ns:4873-4879
            return code(303, "tablet is not healthy");
        }
        TreeSet<Integer> pids = pidGroup(r);
        if (pids.last() > t.partitions.size() - 1 || pids.first() < 0) { // ns:4880-4885
            return code(307, "max pid is greater than partition size");
        }
        for (int pid : pids) {
            Meta m = on(t.partitions.get(pid), ep);
            if (m == null) { // ns:4900-4908
                return code(308, "pid " + pid + " is not in " + ep);
            }
            if (m.leader) { // a leader-flagged row, alive or stale: ns:4909-4916
                return code(102, "can not del leader. pid " + pid + " endpoint " + ep);
            }
        }
        for (int pid : pids) {
            Meta leader = aliveLeader(t.partitions.get(pid));
            if (leader == null || leader.endpoint.equals(ep)) { // CreateDelReplicaOPTask ns:5366-5371
                return code(305, "create op failed");
            }
            addOp("kDelReplicaOP", t, pid, DEL_REPLICA_TASKS, Map.of("endpoint", ep), taskConcurrency, INVALID_PARENT_ID); // ns:5346
        }
        return code(0, "ok");
    }

    private static TreeSet<Integer> pidGroup(JsonNode r) {
        TreeSet<Integer> pids = new TreeSet<>();
        if (r.path("pid_group").size() > 0) { // ns:4318-4324
            r.path("pid_group").forEach(p -> pids.add(p.asInt()));
        } else {
            pids.add(r.path("pid").asInt());
        }
        return pids;
    }

    // OfflineEndpoint ns:2526-2565
    private ObjectNode offlineEndpoint(JsonNode r) {
        if (autoFailover) { // ns:2535-2540
            return code(301, "auto_failover is enabled");
        }
        int concurrency = taskConcurrency;
        if (r.has("concurrency")) { // ns:2541-2551
            if (r.path("concurrency").asInt() > MAX_CONCURRENCY) {
                return code(307, "invalid parameter");
            }
            concurrency = r.path("concurrency").asInt();
        }
        String ep = r.path("endpoint").asText();
        if (!tablets.containsKey(ep)) { // ns:2555-2560
            return code(302, "endpoint does not exist");
        }
        offlineEndpointInternal(ep, concurrency);
        return code(0, "ok");
    }

    /** OfflineEndpointInternal / OfflineEndpointDBInternal ns:2568-2616. */
    private void offlineEndpointInternal(String ep, int concurrency) {
        // table_info_ (legacy) first, then db_table_info_ (ns:2611-2615)
        List<Table> order = new ArrayList<>();
        tables.stream().filter(t -> t.db.isEmpty()).forEach(order::add);
        tables.stream().filter(t -> !t.db.isEmpty()).forEach(order::add);
        for (Table t : order) {
            for (int pid = 0; pid < t.partitions.size(); pid++) {
                Part part = t.partitions.get(pid);
                if (part.metas.size() == 1 && part.metas.get(0).endpoint.equals(ep)) { // ns:2574-2580
                    addOp("kUpdatePartitionStatusOP", t, pid, UPDATE_STATUS_TASKS,
                            Map.of("endpoint", ep, "is_leader", "true", "is_alive", "false"), concurrency, INVALID_PARENT_ID);
                    continue;
                }
                Meta leader = aliveLeader(part);
                Meta m = on(part, ep);
                if (m == null) {
                    continue;
                }
                if (m.leader || leader == null) { // ns:2597-2604
                    if (leader == null || leader.endpoint.equals(ep)) {
                        createChangeLeaderOp(t, pid, "", concurrency);
                    }
                } else { // ns:2605-2607: CreateOfflineReplicaOP
                    addOp("kOfflineReplicaOP", t, pid, OFFLINE_REPLICA_TASKS, Map.of("endpoint", ep), concurrency, INVALID_PARENT_ID);
                }
            }
        }
    }

    /** UpdateEndpointTableAlive ns:7189-7245: rows on the endpoint go not alive, except a partition's last alive row. */
    private void updateEndpointTableAlive(String ep) {
        for (Table t : tables) {
            for (Part p : t.partitions) {
                if (p.metas.stream().filter(m -> m.alive).count() == 1) { // ns:7205-7210
                    continue;
                }
                for (Meta m : p.metas) {
                    if (m.endpoint.equals(ep)) {
                        m.alive = false;
                        m.aliveSet = true;
                        m.following = false;
                    }
                }
            }
        }
    }

    // CancelOP ns:2834-2895
    private ObjectNode cancelOp(JsonNode r) {
        if (autoFailover) { // ns:2843-2848
            return code(301, "auto_failover is enabled");
        }
        long id = r.path("op_id").asLong();
        for (ArrayDeque<Op> q : queues) {
            for (Op o : q) {
                if (o.id == id) {
                    if (o.status.equals("kInited") || o.status.equals("kDoing")) { // ns:2858-2864
                        o.status = "kCanceled";
                        o.held = false;
                        writeOpNode(o);
                        return code(0, "ok");
                    }
                    return code(312, "op status is not kDoing or kInited");
                }
            }
        }
        return code(312, "op status is not kDoing or kInited"); // ns:2890-2894
    }

    // ---- ops ----------------------------------------------------------------------------------------

    /**
     * CreateOPData + AddOPData ns:5028-5071: the queue is pid % concurrency (ns:5038-5041); a child op goes
     * right after its parent in the parent's queue (ns:5052-5066); the op is stored in ZooKeeper at
     * ROOT/op/op_data/ID (the real one as a protobuf OPInfo, the emulator as JSON).
     */
    private Op addOp(String type, Table t, int pid, List<String> tasks, Map<String, String> data, int concurrency, long parentId) {
        Op op = new Op();
        op.id = nextOp++;
        op.type = type;
        op.db = t.db;
        op.name = t.name;
        op.pid = pid;
        op.tasks = new ArrayList<>(tasks);
        op.data.putAll(data);
        op.parentId = parentId;
        int idx = pid % QUEUES;
        if (concurrency < QUEUES && concurrency > 0) {
            idx = pid % concurrency;
        }
        op.queue = idx;
        try {
            zk.setData(root + "/op/op_index", String.valueOf(nextOp).getBytes(StandardCharsets.UTF_8), -1); // ns:5007
        } catch (KeeperException.NoNodeException e) {
            try {
                zk.create(root + "/op/op_index", String.valueOf(nextOp).getBytes(StandardCharsets.UTF_8), acl, CreateMode.PERSISTENT);
            } catch (KeeperException | InterruptedException e2) {
                throw new IllegalStateException(e2);
            }
        } catch (KeeperException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
        try {
            zk.create(opNode(op), op.json().getBytes(StandardCharsets.UTF_8), acl, CreateMode.PERSISTENT);
        } catch (KeeperException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
        ArrayDeque<Op> q = queues.get(idx);
        if (parentId != INVALID_PARENT_ID) {
            List<Op> l = new ArrayList<>(q);
            int at = 0;
            for (int i = 0; i < l.size(); i++) {
                if (l.get(i).id == parentId) {
                    at = i + 1;
                }
            }
            l.add(at, op);
            q.clear();
            q.addAll(l);
        } else {
            q.addLast(op);
        }
        countQueued();
        return op;
    }

    /** Ops a client asked for that have not ended (kInited or kDoing), child ops of a RecoverTable left out. */
    private void countQueued() {
        int n = 0;
        for (ArrayDeque<Op> q : queues) {
            n += (int) q.stream().filter(o -> o.parentId == INVALID_PARENT_ID && (o.status.equals("kInited") || o.status.equals("kDoing"))).count();
        }
        queuedMax = Math.max(queuedMax, n);
    }

    private String opNode(Op op) {
        return root + "/op/op_data/" + op.id;
    }

    private void writeOpNode(Op op) {
        try {
            zk.setData(opNode(op), op.json().getBytes(StandardCharsets.UTF_8), -1);
        } catch (KeeperException.NoNodeException e) {
            // deleted by deleteop
        } catch (KeeperException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private void deleteOpNode(Op op) {
        try {
            zk.delete(opNode(op), -1);
        } catch (KeeperException.NoNodeException e) {
            // gone
        } catch (KeeperException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The nameserver's background work, once per tick: leader election and recovery, tablet status refresh,
     * replication, auto_failover, and ProcessTask (one task of the op at the front of each queue).
     */
    private synchronized void tick() {
        try {
            notifyAll();
            elect();
            if (running == null) {
                return; // nothing runs while no nameserver leads (ProcessTask stops: ns:1950-1954)
            }
            long now = System.currentTimeMillis();
            replicate();
            refreshStatus();
            for (var it = offlineSince.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (healthy(e.getKey())) {
                    it.remove();
                } else if (now >= e.getValue() + tabletHeartbeatTimeoutMillis) { // OnTabletOffline ns:1196-1233
                    it.remove();
                    if (autoFailover) { // ns:1228-1232
                        updateEndpointTableAlive(e.getKey());
                        offlineEndpointInternal(e.getKey(), taskConcurrency);
                    }
                }
            }
            processTasks(now / 1000);
            int doing = 0;
            for (ArrayDeque<Op> q : queues) {
                doing += (int) q.stream().filter(o -> o.status.equals("kDoing")).count();
            }
            inFlightMax = Math.max(inFlightMax, doing);
            countQueued();
        } catch (RuntimeException e) {
            e.printStackTrace(); // keep ticking: a ZooKeeper hiccup in a test must not stop the nameserver's thread
        }
    }

    /**
     * The lock holder becomes leader: OnLocked → Recover() (ns:5633-5676) rebuilds the op queues from
     * ROOT/op/op_data (RecoverOPTask ns:818-1010): done ops are gone (their nodes were deleted, ns:1926-1934) and
     * the in-memory done_op_list_ is lost; failed and canceled ops come back as history; the others are queued
     * again in their vec_idx, sorted by parent id then op id (ns:1000-1009); auto_failover is re-read
     * (ns:611-621). Until then (one tick here) it answers 300.
     */
    private void elect() {
        Ns holder = leaderNs();
        if (holder == null || holder.down) {
            running = null;
            recovering = null;
            return;
        }
        if (holder == running) {
            return;
        }
        if (recovering != holder) {
            running = null;
            recovering = holder;
            return;
        }
        recoverFromZk();
        running = holder;
        recovering = null;
    }

    private void recoverFromZk() {
        queues.forEach(ArrayDeque::clear);
        doneOps.clear();
        try {
            byte[] af = zk.getData(root + "/config/auto_failover", false, null);
            autoFailover = new String(af, StandardCharsets.UTF_8).equals("true");
            List<Op> recovered = new ArrayList<>();
            for (String c : zk.getChildren(root + "/op/op_data", false)) {
                recovered.add(Op.parse(zk.getData(root + "/op/op_data/" + c, false, null)));
            }
            for (Op op : recovered) {
                if (op.status.equals("kFailed") || op.status.equals("kCanceled")) { // ns:985-987
                    doneOps.add(op);
                } else {
                    queues.get(op.queue < QUEUES ? op.queue : op.pid % QUEUES).add(op); // ns:988-996
                }
            }
            for (int i = 0; i < QUEUES; i++) { // ns:999-1009
                List<Op> l = new ArrayList<>(queues.get(i));
                l.sort(Comparator.<Op, Long>comparing(o -> o.parentId, Long::compareUnsigned).thenComparingLong(o -> o.id));
                queues.get(i).clear();
                queues.get(i).addAll(l);
            }
        } catch (KeeperException | InterruptedException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A follower that follows, on a healthy tablet that does not lag, catches up with the alive leader. */
    private void replicate() {
        for (Table t : tables) {
            for (Part p : t.partitions) {
                Meta leader = aliveLeader(p);
                if (leader == null || !healthy(leader.endpoint)) {
                    continue;
                }
                for (Meta m : p.metas) {
                    if (m != leader && m.alive && m.following && healthy(m.endpoint) && !lagging.contains(m.endpoint)) {
                        m.offset = leader.offset;
                    }
                }
            }
        }
    }

    /** UpdateTableStatus / UpdateTableStatusFun ns:5239-5330: what healthy tablets report about each row. */
    private void refreshStatus() {
        if (tablets.values().stream().noneMatch("kHealthy"::equals)) {
            return; // pos_response empty: nothing updated (ns:5264-5266)
        }
        for (Table t : tables) {
            for (Part p : t.partitions) {
                for (Meta m : p.metas) {
                    if (healthy(m.endpoint)) {
                        m.reported = true;
                        m.shownOffset = m.offset;
                        m.tabletHasPartition = true;
                        if (m.alive && m.leader) {
                            p.reported = true;
                            p.shownRecords = m.offset;
                        }
                    } else {
                        m.tabletHasPartition = false; // offset and record_cnt keep their last values (ns:5296-5327)
                    }
                }
            }
        }
    }

    /** ProcessTask ns:1943-2005: only the op at the front of each queue runs; the others wait kInited. */
    private void processTasks(long now) {
        for (ArrayDeque<Op> q : queues) {
            Op op = q.peekFirst();
            if (op == null) {
                continue;
            }
            if (op.status.equals("kCanceled")) { // DeleteTask moves it out, its node deleted (ns:1815-1820, 1926-1934)
                q.pollFirst();
                op.end = now;
                deleteOpNode(op);
                doneOps.add(op);
                continue;
            }
            if (op.status.equals("kInited")) { // ns:1968-1981
                op.status = "kDoing";
                op.start = now;
                writeOpNode(op);
                continue;
            }
            if (op.held) {
                continue; // kDoing for as long as it takes; the 2 h limit only logs (ns:1993-2002)
            }
            String task = op.tasks.get(op.task);
            if (holdAt != null && holdAt.equals(task)) {
                holdAt = null;
                op.held = true;
                continue;
            }
            boolean ok;
            if (failAt != null && failAt.equals(task)) {
                failAt = null;
                ok = false;
            } else {
                ok = runTask(op, task);
            }
            if (!ok) { // DeleteTask ns:1912-1923: kFailed, the node kept with that status, into done_op_list_
                q.remove(op);
                op.status = "kFailed";
                op.end = now;
                writeOpNode(op);
                doneOps.add(op);
                continue;
            }
            op.task++;
            if (op.task >= op.tasks.size()) { // DeleteTask ns:1924-1934: the node deleted, kDone, into done_op_list_
                q.remove(op);
                op.status = "kDone";
                op.end = now;
                deleteOpNode(op);
                doneOps.add(op);
            } else {
                writeOpNode(op); // UpdateZKTaskStatus ns:1726-1760
            }
        }
    }

    /** What one task does to the table info; false = the task fails. */
    private boolean runTask(Op op, String task) {
        Table t = table(op.db, op.name);
        if (t == null || op.pid >= t.partitions.size()) {
            return false;
        }
        Part p = t.partitions.get(op.pid);
        String ep = op.data.get("endpoint");
        switch (op.type + "/" + task) {
            case "kMigrateOP/kAddTableInfo", "kAddReplicaOP/kAddTableInfo" -> {
                String des = op.type.equals("kMigrateOP") ? op.data.get("des") : ep;
                if (on(p, des) != null) { // AddTableInfo ns:6804-6811: "follower already exists"
                    return false;
                }
                Meta leader = aliveLeader(p);
                Meta m = new Meta(des, false, leader == null ? 0 : leader.offset); // the snapshot sent (ns:6812-6818)
                m.alive = false;
                m.aliveSet = true;
                p.metas.add(m);
                return true;
            }
            case "kMigrateOP/kUpdateTableInfo" -> { // UpdateTableInfo ns:6947-7005
                Meta src = on(p, op.data.get("src"));
                Meta des = on(p, op.data.get("des"));
                if (src == null) {
                    return false;
                }
                if (des == null) {
                    src.endpoint = op.data.get("des");
                    des = src;
                } else {
                    p.metas.remove(src);
                }
                des.alive = true;
                des.aliveSet = true;
                des.leader = false;
                des.following = true;
                return true;
            }
            case "kAddReplicaOP/kUpdatePartitionStatus", "kReAddReplicaSimplifyOP/kUpdatePartitionStatus",
                    "kReAddReplicaWithDropOP/kUpdatePartitionStatus" -> { // (is_leader false, is_alive true): ns:4585, 6153, 6367
                Meta m = on(p, ep);
                if (m == null) {
                    return false;
                }
                m.leader = false;
                m.alive = true;
                m.aliveSet = true;
                m.following = true;
                return true;
            }
            case "kDelReplicaOP/kDelTableInfo" -> { // DelTableInfo ns:7014-7075
                Meta m = on(p, ep);
                if (m == null) {
                    return false;
                }
                p.metas.remove(m);
                return true;
            }
            case "kOfflineReplicaOP/kUpdatePartitionStatus", "kUpdatePartitionStatusOP/kUpdatePartitionStatus" -> { // ns:7077-7120
                Meta m = on(p, ep);
                if (m == null) {
                    return false;
                }
                m.leader = Boolean.parseBoolean(op.data.getOrDefault("is_leader", "false"));
                m.alive = Boolean.parseBoolean(op.data.getOrDefault("is_alive", "false"));
                m.aliveSet = true;
                m.following = m.alive;
                return true;
            }
            case "kChangeLeaderOP/kSelectLeader" -> {
                return selectLeader(op, p);
            }
            case "kChangeLeaderOP/kUpdateLeaderInfo" -> {
                return updateLeaderInfo(op, p);
            }
            case "kRecoverTableOP/kRecoverTable" -> {
                return recoverEndpointTable(op, t, p);
            }
            case "kReAddReplicaWithDropOP/kDropTable" -> { // the tablet drops its copy; a full resend follows
                Meta m = on(p, ep);
                if (m != null) {
                    m.offset = 0;
                    m.following = false;
                }
                return true;
            }
            case "kReAddReplicaSimplifyOP/kAddReplica", "kReAddReplicaWithDropOP/kAddReplica" -> { // the leader replicates to it again
                Meta m = on(p, ep);
                if (m != null) {
                    m.following = true;
                }
                return m != null;
            }
            default -> {
                return true; // tablet-side steps that change no table info
            }
        }
    }

    /** SelectLeader ns:7264-7375. */
    private boolean selectLeader(Op op, Part p) {
        List<String> followers = List.of(op.data.get("followers").split(","));
        String candidate = op.data.get("candidate");
        if (candidate != null && !followers.contains(candidate)) { // ns:7280-7287
            return false;
        }
        if (autoFailover && aliveLeader(p) != null) { // ns:7290-7306: "leader is alive, need not changeleader"
            return false;
        }
        for (String f : followers) { // GetTablet fails for a tablet not healthy (ns:7323-7332)
            if (!healthy(f)) {
                return false;
            }
        }
        long max = 0;
        String best = null;
        for (String f : followers) { // FollowOfNoOne on every follower; the highest offset wins (ns:7336-7358)
            Meta m = on(p, f);
            if (m == null) {
                return false;
            }
            m.following = false;
            if (best == null || m.offset > max) { // ties: the source picks at random (ns:7363); the emulator the first
                max = m.offset;
                best = f;
            }
        }
        String leader = candidate != null ? candidate : best; // an explicit candidate is obeyed (ns:7359-7362)
        op.data.put("leader", leader);
        op.data.put("offset", String.valueOf(max));
        return true;
    }

    /** UpdateLeaderInfo ns:7495-7560: the old leader row stays is_leader=true, is_alive=false (ns:7536-7540). */
    private boolean updateLeaderInfo(Op op, Part p) {
        String leader = op.data.get("leader");
        Meta old = aliveLeader(p);
        Meta next = p.metas.stream().filter(m -> m != old && m.endpoint.equals(leader)).findFirst().orElse(null);
        if (old != null) {
            old.alive = false;
            old.aliveSet = true;
            old.following = false;
        }
        if (next == null) { // ns:7541-7546
            return false;
        }
        next.leader = true;
        next.following = false;
        if (p.committed > next.offset) { // what the old leader had acknowledged beyond the new leader is gone
            lost += p.committed - next.offset;
        }
        p.committed = next.offset;
        p.termStart = next.offset; // term_offset: offset + 1 starts the new term (ns:7550-7552)
        for (Meta m : p.metas) { // the other alive followers follow the new leader (ChangeLeader task ns:7377-7494)
            if (m != next && m.alive) {
                m.following = true;
            }
        }
        return true;
    }

    /** RecoverEndpointTable ns:5775-5930: the work happens in a child op with a higher id (ns:5917-5930). */
    private boolean recoverEndpointTable(Op op, Table t, Part p) {
        if (failRecover) {
            failRecover = false;
            return false;
        }
        String ep = op.data.get("endpoint");
        Meta leader = aliveLeader(p);
        if (leader != null && !healthy(leader.endpoint)) { // ns:5808-5813
            return false;
        }
        Meta m = on(p, ep);
        if (m == null) {
            return false;
        }
        if (m.alive) { // ns:5822-5826: nothing to do
            return true;
        }
        if (!healthy(ep)) { // ns:5833-5837
            return false;
        }
        // the child goes after its parent in the parent's queue (AddOPData ns:5052-5066, concurrency from RecoverTableData)
        int concurrency = Integer.parseInt(op.data.getOrDefault("concurrency", String.valueOf(taskConcurrency)));
        boolean hasFollower = p.metas.size() > 1;
        if (hasFollower && leader == null) { // ns:5846-5851
            return false;
        }
        if (!hasFollower) { // ns:5860-5870: single replica, the tablet has the table
            addOp("kUpdatePartitionStatusOP", t, op.pid, UPDATE_STATUS_TASKS, Map.of("endpoint", ep, "is_leader", "true", "is_alive", "true"),
                    concurrency, op.id);
            return true;
        }
        // MatchTermOffset + manifest (ns:5888-5930): a copy with nothing beyond the new term re-adds simply; one
        // that holds records the new leader never had is dropped and resent in full
        boolean simple = m.offset <= p.termStart;
        addOp(simple ? "kReAddReplicaSimplifyOP" : "kReAddReplicaWithDropOP", t, op.pid, simple ? READD_SIMPLIFY_TASKS : READD_WITH_DROP_TASKS,
                Map.of("endpoint", ep), concurrency, op.id);
        return true;
    }

    private static void send(HttpExchange ex, int code, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", code == 200 ? "application/json" : "text/plain");
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }
}
