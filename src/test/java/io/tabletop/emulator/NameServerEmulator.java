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
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An emulator of OpenMLDB's nameserver, written from research/openmldb.md (name_server.proto's messages,
 * brpc's JSON mapping, NameServerImpl's rules), never from Tabletop's connector or planner.
 *
 * <p>Each nameserver is an HTTP listener on its own loopback address that registers itself in a real
 * ZooKeeper as OpenMLDB does ({@code ROOT/leader/lock_request…}, ephemeral sequential, holding its
 * endpoint); the tablets are registered under {@code ROOT/nodes/ENDPOINT}. brpc's HTTP+JSON on
 * {@code POST /NameServer/METHOD}: snake_case fields, enums as names, unset fields omitted, {@code code}
 * and {@code msg} in every reply, HTTP 200 with an OpenMLDB code for a refusal; a request without
 * {@code Authorization} (or with a wrong user or password) gets its connection closed without a reply. A
 * nameserver that is not the smallest child of {@code ROOT/leader} answers 300. Migrate, ChangeLeader and
 * RecoverTable answer 301 while {@code auto_failover} is on. Ops go kInited → kDoing (task by task, one per
 * tick) → kDone, and can be made to fail at a named task. ChangeLeader leaves the old leader's row
 * {@code is_leader=true, is_alive=false} until RecoverTable.
 */
public final class NameServerEmulator implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> MIGRATE_TASKS = List.of("kPauseSnapshot", "kSendSnapshot", "kRecoverSnapshot", "kLoadTable",
            "kAddReplica", "kAddTableInfo", "kCheckBinlogSyncProgress", "kDelReplica", "kUpdateTableInfo", "kDropTable");
    private static final List<String> CHANGE_LEADER_TASKS = List.of("kSelectLeader", "kChangeLeader", "kUpdateLeaderInfo");
    private static final List<String> RECOVER_TASKS = List.of("kDelReplica", "kRecoverTable", "kUpdatePartitionStatus");
    private static final List<String> ADD_REPLICA_TASKS = List.of("kPauseSnapshot", "kSendSnapshot", "kLoadTable", "kAddReplica",
            "kRecoverSnapshot", "kAddTableInfo", "kCheckBinlogSyncProgress", "kUpdatePartitionStatus");
    private static final List<String> DEL_REPLICA_TASKS = List.of("kDelReplica", "kDelTableInfo", "kDropTable");

    static {
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    /** One replica row of a partition ({@code PartitionMeta}). */
    private static final class Meta {
        String endpoint;
        boolean leader;
        boolean alive = true;

        Meta(String endpoint, boolean leader) {
            this.endpoint = endpoint;
            this.leader = leader;
        }
    }

    private static final class Table {
        final String db;
        final String name;
        final int tid;
        final int replicas;
        final List<List<Meta>> partitions = new ArrayList<>();
        final List<Long> records = new ArrayList<>();

        Table(String db, String name, int tid, int replicas) {
            this.db = db;
            this.name = name;
            this.tid = tid;
            this.replicas = replicas;
        }
    }

    private static final class Op {
        final long id;
        final String type;
        final String db;
        final String name;
        final int pid;
        final List<String> tasks;
        final Runnable effect;
        int task = -1;
        String status = "kInited";
        long start;
        long end;

        Op(long id, String type, String db, String name, int pid, List<String> tasks, Runnable effect) {
            this.id = id;
            this.type = type;
            this.db = db;
            this.name = name;
            this.pid = pid;
            this.tasks = tasks;
            this.effect = effect;
        }
    }

    private final String root;
    private final String authorization;
    private final List<org.apache.zookeeper.data.ACL> acl;
    private final ZooKeeper zk;
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<String> lockNodes = new ArrayList<>();
    private final Map<String, String> tablets = new LinkedHashMap<>();
    private final List<Table> tables = new ArrayList<>();
    private final List<Op> ops = new ArrayList<>();
    private final List<String> requests = Collections.synchronizedList(new ArrayList<>());
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

    /**
     * @param zkConnect     ZooKeeper, {@code 127.0.0.1:PORT}
     * @param root          OpenMLDB's {@code zk_root_path}
     * @param authorization the {@code Authorization} value accepted (brpc: {@code sdefault}, or {@code u<user>:1<sha256 hex>})
     * @param nameservers   how many nameservers register (the first is the leader)
     * @param tickMillis    one op task per tick
     */
    public NameServerEmulator(String zkConnect, String root, String authorization, int nameservers, long tickMillis) throws Exception {
        this(zkConnect, root, authorization, nameservers, tickMillis, null);
    }

    /** As above; with {@code zkDigest} ({@code user:password}, OpenMLDB's {@code --zk_cert}) every node is readable by that user only. */
    public NameServerEmulator(String zkConnect, String root, String authorization, int nameservers, long tickMillis, String zkDigest)
            throws Exception {
        this.root = root;
        this.authorization = authorization;
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
        for (String p : List.of(root, root + "/leader", root + "/nodes")) {
            try {
                zk.create(p, new byte[0], acl, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException e) {
                // already there
            }
        }
        for (int i = 0; i < nameservers; i++) {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.2." + (101 + i), 0), 0);
            s.createContext("/", ex -> handle(s, ex));
            s.setExecutor(http);
            s.start();
            servers.add(s);
            String endpoint = endpoint(s);
            lockNodes.add(zk.create(root + "/leader/lock_request", endpoint.getBytes(StandardCharsets.UTF_8), acl,
                    CreateMode.EPHEMERAL_SEQUENTIAL));
        }
        ticker.scheduleAtFixedRate(this::tick, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
    }

    private static String endpoint(HttpServer s) {
        return s.getAddress().getHostString() + ":" + s.getAddress().getPort();
    }

    // ---- building the cluster ---------------------------------------------------------------------

    /** A tablet at {@code 127.0.2.N:10921}, healthy, registered under {@code ROOT/nodes}. */
    /** The HTTP+JSON endpoint of every nameserver ("127.0.2.101:PORT"). */
    public synchronized List<String> endpoints() {
        return servers.stream().map(NameServerEmulator::endpoint).toList();
    }

    public synchronized String addTablet(int n) throws Exception {
        String ep = "127.0.2." + n + ":10921";
        tablets.put(ep, "kHealthy");
        zk.create(root + "/nodes/" + ep, ("startup_" + ep).getBytes(StandardCharsets.UTF_8), acl, CreateMode.EPHEMERAL);
        return ep;
    }

    /**
     * A table whose partition p has its leader on tablet p mod N and followers on the next ones round the
     * ring (N = the tablets in order), {@code rows} records per partition.
     */
    public synchronized void addTable(String db, String name, int partitions, int replicas, long rows) {
        Table t = new Table(db, name, 10 + tables.size(), replicas);
        List<String> eps = new ArrayList<>(tablets.keySet());
        for (int p = 0; p < partitions; p++) {
            List<Meta> metas = new ArrayList<>();
            for (int r = 0; r < replicas; r++) {
                metas.add(new Meta(eps.get((p + r) % eps.size()), r == 0));
            }
            t.partitions.add(metas);
            t.records.add(rows);
        }
        tables.add(t);
    }

    public synchronized void setAutoFailover(boolean on) {
        autoFailover = on;
    }

    public synchronized boolean autoFailover() {
        return autoFailover;
    }

    /** The next op fails when it reaches this task. */
    public synchronized void failAtTask(String taskType) {
        failAt = taskType;
    }

    /** What the operator does after fixing the cause of a failed op: {@code deleteop} of the failed ops. */
    public synchronized void deleteFailedOps() {
        ops.removeIf(o -> o.status.equals("kFailed"));
    }

    /** A tablet stops: kOffline (its ZooKeeper node goes); the replicas on it stop being alive. */
    public synchronized void stopTablet(String endpoint) throws Exception {
        tablets.put(endpoint, "kOffline");
        try {
            zk.delete(root + "/nodes/" + endpoint, -1);
        } catch (KeeperException.NoNodeException e) {
            // gone already
        }
    }

    /** The leading nameserver goes away (its lock node and listener); the next one leads. */
    public synchronized void failOverNameServer() throws Exception {
        zk.delete(lockNodes.get(0), -1);
        servers.get(0).stop(0);
    }

    /** Per tablet endpoint: {replicas, leaders} that are alive. */
    public synchronized Map<String, int[]> loads() {
        Map<String, int[]> out = new LinkedHashMap<>();
        tablets.keySet().forEach(ep -> out.put(ep, new int[2]));
        for (Table t : tables) {
            for (List<Meta> ms : t.partitions) {
                for (Meta m : ms) {
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

    @Override
    public void close() throws Exception {
        ticker.shutdownNow();
        for (HttpServer s : servers) {
            s.stop(0);
        }
        http.shutdownNow();
        zk.close();
    }

    // ---- HTTP ---------------------------------------------------------------------------------------

    private void handle(HttpServer self, HttpExchange ex) throws IOException {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null || !auth.equals(authorization)) {
            // brpc fails the socket: no reply, the connection closes (research §2.1). The JDK server closes
            // the connection when a handler throws before answering.
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
                if (!isLeader(self)) {
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

    private boolean isLeader(HttpServer self) {
        try {
            List<String> children = new ArrayList<>(zk.getChildren(root + "/leader", false));
            Collections.sort(children);
            if (children.isEmpty()) {
                return false;
            }
            String data = new String(zk.getData(root + "/leader/" + children.get(0), false, null), StandardCharsets.UTF_8);
            return data.equals(endpoint(self));
        } catch (KeeperException | InterruptedException e) {
            return false;
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
                tables.stream().map(t -> t.db).filter(d -> !d.startsWith("__") && !d.equals("INFORMATION_SCHEMA")).distinct().forEach(dbs::add);
                yield o;
            }
            case "ShowTable" -> showTable(r);
            case "ConfGet" -> {
                ObjectNode o = code(0, "ok");
                o.putArray("conf").addObject().put("key", "auto_failover").put("value", String.valueOf(autoFailover));
                yield o;
            }
            case "ConfSet" -> {
                if (r.path("conf").path("key").asText().equals("auto_failover")) {
                    autoFailover = r.path("conf").path("value").asText().equals("true");
                }
                yield code(0, "ok");
            }
            case "ShowOPStatus" -> showOps(r);
            case "Migrate" -> migrate(r);
            case "ChangeLeader" -> changeLeader(r);
            case "RecoverTable" -> recoverTable(r);
            case "AddReplicaNS" -> addReplica(r);
            case "DelReplicaNS" -> delReplica(r);
            default -> null;
        };
    }

    private ObjectNode showTablet() {
        ObjectNode o = code(0, "ok");
        ArrayNode ts = o.putArray("tablets");
        tablets.forEach((ep, st) -> ts.addObject().put("endpoint", ep).put("state", st).put("age", 86_400_000L));
        return o;
    }

    private ObjectNode showTable(JsonNode r) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode infos = o.putArray("table_info");
        boolean all = r.path("show_all").asBoolean(false);
        for (Table t : tables) {
            if (!all && !(t.db.equals(r.path("db").asText("")) && (!r.has("name") || t.name.equals(r.path("name").asText())))) {
                continue;
            }
            ObjectNode ti = infos.addObject();
            ti.put("name", t.name).put("tid", t.tid).put("partition_num", t.partitions.size()).put("replica_num", t.replicas).put("db", t.db);
            ti.put("storage_mode", "kMemory");
            ArrayNode parts = ti.putArray("table_partition");
            for (int p = 0; p < t.partitions.size(); p++) {
                ObjectNode tp = parts.addObject().put("pid", p);
                ArrayNode metas = tp.putArray("partition_meta");
                for (Meta m : t.partitions.get(p)) {
                    ObjectNode mo = metas.addObject().put("endpoint", m.endpoint).put("is_leader", m.leader);
                    if (!m.alive) {
                        mo.put("is_alive", false); // set only when false: brpc omits the unset default (true)
                    }
                    mo.put("record_cnt", t.records.get(p)).put("record_byte_size", t.records.get(p) * 256);
                }
                tp.put("record_cnt", t.records.get(p)).put("record_byte_size", t.records.get(p) * 256);
            }
        }
        o.put("code", 0).put("msg", "ok");
        return o;
    }

    private ObjectNode showOps(JsonNode r) {
        ObjectNode o = code(0, "ok");
        ArrayNode list = o.putArray("op_status");
        for (Op op : ops) {
            if (r.has("name") && !op.name.equals(r.path("name").asText())) {
                continue;
            }
            if (r.has("db") && !op.db.equals(r.path("db").asText())) {
                continue;
            }
            if (r.has("pid") && op.pid != r.path("pid").asInt()) {
                continue;
            }
            list.addObject().put("op_id", op.id).put("op_type", op.type).put("status", op.status).put("start_time", op.start)
                    .put("end_time", op.end).put("task_type", op.task < 0 || op.status.equals("kDone") ? "-" : op.tasks.get(op.task))
                    .put("name", op.name).put("pid", op.pid).put("for_replica_cluster", 0).put("db", op.db);
        }
        return o;
    }

    private Table table(JsonNode r) {
        return tables.stream().filter(t -> t.db.equals(r.path("db").asText("")) && t.name.equals(r.path("name").asText())).findFirst().orElse(null);
    }

    private boolean healthy(String ep) {
        return "kHealthy".equals(tablets.get(ep));
    }

    private static Meta on(List<Meta> ms, String ep) {
        return ms.stream().filter(m -> m.endpoint.equals(ep)).findFirst().orElse(null);
    }

    private ObjectNode migrate(JsonNode r) {
        if (autoFailover) {
            return code(301, "auto_failover is enabled");
        }
        String src = r.path("src_endpoint").asText();
        String des = r.path("des_endpoint").asText();
        if (!healthy(src)) {
            return code(318, "src_endpoint is not exist or not healthy");
        }
        if (!healthy(des)) {
            return code(319, "des_endpoint is not exist or not healthy");
        }
        Table t = table(r);
        if (t == null) {
            return code(100, "table does not exist");
        }
        List<Integer> pids = new ArrayList<>();
        r.path("pid").forEach(p -> pids.add(p.asInt()));
        for (int pid : pids) {
            if (pid >= t.partitions.size()) {
                return code(308, "pid does not exist");
            }
            List<Meta> ms = t.partitions.get(pid);
            if (ms.stream().noneMatch(m -> m.leader && m.alive)) {
                return code(320, "leader endpoint is empty. name[" + t.name + "] pid[" + pid + "]");
            }
            Meta s = on(ms, src);
            if (s == null || !s.alive) {
                return code(320, "src_endpoint[" + src + "] has not partition[" + pid + "]. name[" + t.name + "]");
            }
            if (s.leader) {
                return code(320, "cannot migrate leader. name[" + t.name + "] pid[" + pid + "]");
            }
            Meta d = on(ms, des);
            if (d != null && d.alive) {
                return code(320, "partition[" + pid + "] is already in des_endpoint[" + des + "]. name[" + t.name + "]");
            }
        }
        for (int pid : pids) {
            List<Meta> ms = t.partitions.get(pid);
            newOp("kMigrateOP", t, pid, MIGRATE_TASKS, () -> {
                ms.removeIf(m -> m.endpoint.equals(des));
                on(ms, src).endpoint = des;
            });
        }
        return code(0, "ok");
    }

    private ObjectNode changeLeader(JsonNode r) {
        if (autoFailover) {
            return code(301, "auto_failover is enabled");
        }
        Table t = table(r);
        if (t == null) {
            return code(100, "table does not exist");
        }
        int pid = r.path("pid").asInt();
        List<Meta> ms = t.partitions.get(pid);
        if (ms.size() == 1) {
            return code(134, "no follower");
        }
        List<Meta> followers = ms.stream().filter(m -> m.alive && !m.leader).toList();
        if (followers.isEmpty()) {
            return code(310, "no alive follower");
        }
        boolean leaderAlive = ms.stream().anyMatch(m -> m.leader && m.alive);
        String candidate = r.path("candidate_leader").asText("");
        if (leaderAlive && candidate.isEmpty()) {
            return code(309, "leader is alive");
        }
        Meta next = candidate.isEmpty() || candidate.equals("auto") ? followers.get(0) : on(ms, candidate);
        if (next == null || !next.alive || next.leader || !healthy(next.endpoint)) {
            return code(307, "invalid parameter");
        }
        newOp("kChangeLeaderOP", t, pid, CHANGE_LEADER_TASKS, () -> {
            ms.stream().filter(m -> m.leader && m.alive).forEach(m -> m.alive = false); // the stale leader row stays
            next.leader = true;
        });
        return code(0, "ok");
    }

    private ObjectNode recoverTable(JsonNode r) {
        if (autoFailover) {
            return code(301, "auto_failover is enabled");
        }
        Table t = table(r);
        if (t == null) {
            return code(100, "table does not exist");
        }
        String ep = r.path("endpoint").asText();
        if (!healthy(ep)) {
            return code(303, "tablet is not healthy");
        }
        List<Meta> ms = t.partitions.get(r.path("pid").asInt());
        Meta m = on(ms, ep);
        if (m == null) {
            return code(308, "pid is not in " + ep);
        }
        if (m.alive) {
            return code(311, "table is alive, need not recover");
        }
        newOp("kRecoverTableOP", t, r.path("pid").asInt(), RECOVER_TASKS, () -> {
            m.leader = false;
            m.alive = true;
        });
        return code(0, "ok");
    }

    private ObjectNode addReplica(JsonNode r) {
        Table t = table(r);
        if (t == null) {
            return code(100, "table does not exist");
        }
        String ep = r.path("endpoint").asText();
        if (!healthy(ep)) {
            return code(303, "tablet is not healthy");
        }
        int pid = r.path("pid").asInt();
        List<Meta> ms = t.partitions.get(pid);
        if (on(ms, ep) != null) {
            return code(317, "pid " + pid + " is exist in " + ep);
        }
        newOp("kAddReplicaOP", t, pid, ADD_REPLICA_TASKS, () -> ms.add(new Meta(ep, false)));
        return code(0, "ok");
    }

    private ObjectNode delReplica(JsonNode r) {
        Table t = table(r);
        if (t == null) {
            return code(100, "table does not exist");
        }
        String ep = r.path("endpoint").asText();
        int pid = r.path("pid").asInt();
        List<Meta> ms = t.partitions.get(pid);
        Meta m = on(ms, ep);
        if (m == null) {
            return code(308, "pid " + pid + " is not in " + ep);
        }
        if (m.leader) {
            return code(102, "can not del leader. pid " + pid + " endpoint " + ep);
        }
        newOp("kDelReplicaOP", t, pid, DEL_REPLICA_TASKS, () -> ms.remove(m));
        return code(0, "ok");
    }

    private void newOp(String type, Table t, int pid, List<String> tasks, Runnable effect) {
        ops.add(new Op(nextOp++, type, t.db, t.name, pid, tasks, effect));
    }

    /** Waits until no op is kInited or kDoing; false after {@code millis}. */
    public synchronized boolean awaitOpsIdle(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (ops.stream().anyMatch(o -> o.status.equals("kInited") || o.status.equals("kDoing"))) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left); // tick() notifies
        }
        return true;
    }

    /** Every op not finished advances one task; an op whose last task is done takes effect. */
    private synchronized void tick() {
        notifyAll();
        long now = System.currentTimeMillis() / 1000;
        for (Op op : ops) {
            if (op.status.equals("kDone") || op.status.equals("kFailed")) {
                continue;
            }
            if (op.status.equals("kInited")) {
                op.status = "kDoing";
                op.start = now;
                op.task = 0;
                continue;
            }
            if (failAt != null && op.tasks.get(op.task).equals(failAt)) {
                failAt = null;
                op.status = "kFailed";
                op.end = now;
                continue;
            }
            if (op.task + 1 < op.tasks.size()) {
                op.task++;
            } else {
                op.effect.run();
                op.status = "kDone";
                op.end = now;
            }
        }
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
