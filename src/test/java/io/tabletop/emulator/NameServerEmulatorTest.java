package io.tabletop.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The emulator itself, spoken to with plain HTTP (never through Tabletop's connector): each behaviour modelled from v0.9.3. */
class NameServerEmulatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String T1 = "127.0.2.1:10921";
    private static final String T2 = "127.0.2.2:10921";
    private static final String T3 = "127.0.2.3:10921";
    private static final String T4 = "127.0.2.4:10921";
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    private TestingServer zk;
    private NameServerEmulator ns;

    private NameServerEmulator start(int nameservers, long tick) throws Exception {
        File dir = Files.createTempDirectory("emu-zk").toFile();
        InstanceSpec spec = new InstanceSpec(dir, -1, -1, -1, true, 1, -1, -1, Map.of("clientPortAddress", "127.0.0.1"), "127.0.0.1");
        zk = new TestingServer(spec, true);
        ns = new NameServerEmulator("127.0.0.1:" + zk.getPort(), "/openmldb", "sdefault", nameservers, tick);
        for (int n = 1; n <= 4; n++) {
            ns.addTablet(n);
        }
        return ns;
    }

    @AfterEach
    void stop() throws Exception {
        if (ns != null) {
            ns.close();
        }
        if (zk != null) {
            zk.close();
        }
    }

    private JsonNode call(int server, String method, String body, String auth) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + ns.endpoints().get(server) + "/NameServer/" + method))
                .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return JSON.readTree(http.send(b.build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private JsonNode call(String method, String body) throws IOException, InterruptedException {
        return call(0, method, body, "sdefault");
    }

    private int code(String method, String body) throws Exception {
        return call(method, body).path("code").asInt();
    }

    private List<JsonNode> ops() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        call("ShowOPStatus", "{}").path("op_status").forEach(out::add);
        return out;
    }

    /** The partition_meta rows of demo.t1 pid as ShowTable returns them. */
    private List<JsonNode> rows(int pid) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        JsonNode t = call("ShowTable", "{\"db\":\"demo\",\"name\":\"t1\"}").path("table_info").get(0);
        t.path("table_partition").get(pid).path("partition_meta").forEach(out::add);
        return out;
    }

    private JsonNode row(int pid, String ep) throws Exception {
        return rows(pid).stream().filter(r -> r.path("endpoint").asText().equals(ep)).findFirst().orElseThrow();
    }

    /** Polls ShowTable (each poll is a round trip, no sleep) until the condition holds. */
    private void until(Predicate<NameServerEmulator> cond, String what) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!cond.test(ns)) {
            call("ShowTable", "{\"db\":\"demo\"}");
            assertTrue(System.currentTimeMillis() < deadline, what);
        }
    }

    private void idle() throws InterruptedException {
        assertTrue(ns.awaitOpsIdle(10_000), "ops end");
    }

    private static String changeLeader(int pid, String candidate) {
        return "{\"db\":\"demo\",\"name\":\"t1\",\"pid\":" + pid + (candidate == null ? "" : ",\"candidate_leader\":\"" + candidate + "\"") + "}";
    }

    @Test
    void opsRunInTwoFifoQueuesAndTheThirdWaitsKInited() throws Exception {
        start(1, 30);
        ns.addTable("demo", "t1", 6, 3, 100);
        ns.setAutoFailover(false);
        for (int pid = 0; pid < 3; pid++) {
            assertEquals(0, code("ChangeLeader", changeLeader(pid, "auto")), "a candidate (even auto) may replace an alive leader");
        }
        long deadline = System.currentTimeMillis() + 10_000;
        boolean seen = false;
        while (!seen) { // queue 0 holds pid 0 then pid 2 (pid % 2), queue 1 pid 1
            List<JsonNode> ops = ops();
            if (ops.get(0).path("status").asText().equals("kDoing")) {
                assertEquals("kInited", ops.get(2).path("status").asText(), "pid 2 waits behind pid 0 in queue 0");
                assertEquals("-", ops.get(2).path("task_type").asText());
                seen = true;
            }
            assertTrue(System.currentTimeMillis() < deadline);
        }
        idle();
        assertEquals(2, ns.opsInFlightMax(), "two task queues by default");
        assertTrue(ops().stream().allMatch(o -> o.path("status").asText().equals("kDone")));
        assertEquals(3, ns.staleRows(), "each old leader row stays, is_leader=true and is_alive=false");
        assertEquals(3, ns.mutatingRequests().get("ChangeLeader"));
    }

    @Test
    void autoPicksTheHighestOffsetAndAnExplicitLaggingCandidateLosesRecords() throws Exception {
        start(1, 10);
        ns.addTable("demo", "t1", 2, 3, 1000);
        ns.setAutoFailover(false);
        ns.lag(T2, true);
        ns.write("demo", "t1", 0, 50);
        ns.write("demo", "t1", 1, 50);
        until(n -> n.offsets("demo", "t1", 0).get(T3) == 1050 && n.offsets("demo", "t1", 1).get(T3) == 1050, "T3 catches up");
        until(n -> true, "one refresh");
        assertEquals(1000, row(0, T2).path("offset").asLong(), "ShowTable reports each row's offset");
        assertEquals(1050, row(0, T3).path("record_cnt").asLong());

        // pid 0: leader T1, followers T2 (lagging) and T3 → auto picks T3
        assertEquals(0, code("ChangeLeader", changeLeader(0, "auto")));
        idle();
        assertTrue(ns.partition("demo", "t1", 0).contains(T3 + " leader alive offset=1050"), ns.partition("demo", "t1", 0).toString());
        assertEquals(0, ns.lostRecords());

        // pid 1: leader T2 (the ring), followers T3 and T4, both at 1050; T4 lags from now on and is named
        ns.lag(T4, true);
        ns.write("demo", "t1", 1, 30);
        until(n -> n.offsets("demo", "t1", 1).get(T3) == 1080, "T3 catches up");
        assertEquals(0, code("ChangeLeader", changeLeader(1, T4)));
        idle();
        assertTrue(ns.partition("demo", "t1", 1).contains(T4 + " leader alive offset=1050"), ns.partition("demo", "t1", 1).toString());
        assertEquals(30, ns.lostRecords(), "the explicit candidate is obeyed although it lags");
    }

    @Test
    void aBadCandidateGets305AndNoUsableFollowerAnswersOkWithoutAnOp() throws Exception {
        start(1, 10);
        ns.addTable("demo", "t1", 1, 3, 10);
        ns.setAutoFailover(false);
        assertEquals(305, code("ChangeLeader", changeLeader(0, T1)), "the leader is no follower");
        assertEquals(305, code("ChangeLeader", changeLeader(0, T4)), "T4 holds no replica");
        assertEquals(309, code("ChangeLeader", changeLeader(0, null)), "leader alive and no candidate");
        assertEquals(308, code("ChangeLeader", "{\"db\":\"demo\",\"name\":\"t1\",\"pid\":7,\"candidate_leader\":\"auto\"}"));
        ns.stopTablet(T3);
        assertEquals(305, code("ChangeLeader", changeLeader(0, T3)), "a follower on an offline tablet");
        ns.stopTablet(T2);
        assertEquals(0, code("ChangeLeader", changeLeader(0, "auto")), "ok, but no op (ns:5548-5551)");
        assertTrue(ops().isEmpty());
        assertEquals(Map.of("ChangeLeader", 6), ns.mutatingRequests());
    }

    @Test
    void theStaleRowStaysUntilRecoverTableWhoseWorkIsAChildOpAndWhichCanFail() throws Exception {
        start(1, 10);
        ns.addTable("demo", "t1", 1, 3, 10);
        ns.setAutoFailover(false);
        assertEquals(0, code("ChangeLeader", changeLeader(0, "auto")));
        idle();
        JsonNode stale = row(0, T1);
        assertTrue(stale.path("is_leader").asBoolean() && !stale.path("is_alive").asBoolean(true), stale.toString());

        ns.failRecoverTable();
        assertEquals(0, code("RecoverTable", "{\"db\":\"demo\",\"name\":\"t1\",\"pid\":0,\"endpoint\":\"" + T1 + "\"}"));
        idle();
        JsonNode failed = ops().get(1);
        assertEquals("kRecoverTableOP", failed.path("op_type").asText());
        assertEquals("kFailed", failed.path("status").asText());
        assertEquals("kRecoverTable", failed.path("task_type").asText(), "a stale leader row's op has only kRecoverTable");
        assertEquals(1, ns.staleRows(), "the stale row stays");

        assertEquals(0, code("RecoverTable", "{\"db\":\"demo\",\"name\":\"t1\",\"pid\":0,\"endpoint\":\"" + T1 + "\"}"));
        idle();
        List<JsonNode> ops = ops();
        assertEquals("kRecoverTableOP", ops.get(2).path("op_type").asText());
        assertEquals("kReAddReplicaSimplifyOP", ops.get(3).path("op_type").asText(), "the work is a child op with a higher id");
        assertTrue(ops.get(3).path("op_id").asLong() > ops.get(2).path("op_id").asLong());
        assertEquals("kDone", ops.get(3).path("status").asText());
        assertEquals(0, ns.staleRows());
        assertFalse(row(0, T1).path("is_leader").asBoolean());
        assertEquals(311, code("RecoverTable", "{\"db\":\"demo\",\"name\":\"t1\",\"pid\":0,\"endpoint\":\"" + T1 + "\"}"), "alive already");
    }

    @Test
    void migrateToATabletWithAStaleRowFailsAtKAddTableInfo() throws Exception {
        start(1, 10);
        ns.addTable("demo", "t1", 1, 3, 10);
        ns.setAutoFailover(false);
        assertEquals(0, code("ChangeLeader", changeLeader(0, T2)));
        idle(); // T1: stale leader row; T2 leader; T3 follower
        assertEquals(0, code("Migrate", "{\"src_endpoint\":\"" + T3 + "\",\"name\":\"t1\",\"des_endpoint\":\"" + T1 + "\",\"pid\":[0],\"db\":\"demo\"}"),
                "accepted: the not-alive row is not seen by Migrate's checks");
        idle();
        JsonNode op = ops().get(1);
        assertEquals("kFailed", op.path("status").asText());
        assertEquals("kAddTableInfo", op.path("task_type").asText());
        assertEquals(320, code("Migrate", "{\"src_endpoint\":\"" + T2 + "\",\"name\":\"t1\",\"des_endpoint\":\"" + T4 + "\",\"pid\":[0],\"db\":\"demo\"}"),
                "a leader does not migrate");
        ns.setAutoFailover(true);
        assertEquals(301, code("Migrate", "{\"src_endpoint\":\"" + T3 + "\",\"name\":\"t1\",\"des_endpoint\":\"" + T4 + "\",\"pid\":[0],\"db\":\"demo\"}"));
    }

    @Test
    void anOfflineTabletIsRefused318And303AndRebuiltByOfflineEndpointThenAddReplica() throws Exception {
        start(1, 10);
        ns.addTable("demo", "t1", 1, 3, 10); // T1 leader, T2, T3
        ns.setAutoFailover(false);
        ns.stopTablet(T3);
        String p0 = "\"db\":\"demo\",\"name\":\"t1\",\"pid\":0";
        assertEquals(318, code("Migrate", "{\"src_endpoint\":\"" + T3 + "\",\"name\":\"t1\",\"des_endpoint\":\"" + T4 + "\",\"pid\":[0],\"db\":\"demo\"}"));
        assertEquals(303, code("DelReplicaNS", "{" + p0 + ",\"endpoint\":\"" + T3 + "\"}"));
        assertEquals(307, code("DelReplicaNS", "{\"db\":\"demo\",\"name\":\"t1\",\"pid\":5,\"endpoint\":\"" + T2 + "\"}"), "pid out of range");
        ns.stopTablet(T1);
        assertEquals(303, code("RecoverTable", "{" + p0 + ",\"endpoint\":\"" + T1 + "\"}"));
        assertEquals(320, code("Migrate", "{\"src_endpoint\":\"" + T2 + "\",\"name\":\"t1\",\"des_endpoint\":\"" + T4 + "\",\"pid\":[0],\"db\":\"demo\"}"),
                "leader tablet is offline");
        assertEquals(0, code("OfflineEndpoint", "{\"endpoint\":\"" + T1 + "\"}"));
        assertEquals(0, code("OfflineEndpoint", "{\"endpoint\":\"" + T3 + "\"}"));
        idle();
        assertEquals(List.of(T1 + " leader stale offset=10", T2 + " leader alive offset=10", T3 + " follower stale offset=10"),
                ns.partition("demo", "t1", 0));
        assertEquals(0, code("AddReplicaNS", "{" + p0 + ",\"endpoint\":\"" + T4 + "\"}"));
        idle();
        assertTrue(ns.partition("demo", "t1", 0).contains(T4 + " follower alive offset=10"));
        assertEquals(2, ns.loads().values().stream().mapToInt(a -> a[0]).sum(), "two alive copies again");
    }

    @Test
    void withAutoFailoverAStoppedTabletIsHandledAfterTheHeartbeatTimeout() throws Exception {
        start(1, 10);
        ns.addTable("demo", "t1", 1, 3, 10);
        ns.setTabletHeartbeatTimeoutMillis(50);
        ns.stopTablet(T1);
        until(n -> n.partition("demo", "t1", 0).stream().anyMatch(r -> r.startsWith(T2 + " leader alive") || r.startsWith(T3 + " leader alive")),
                "a follower leads");
        idle();
        assertEquals(1, ns.staleRows());
    }

    @Test
    void aCrashedLeadersLockNodeLingersForTheSessionTimeoutAndFinishedOpHistoryIsLost() throws Exception {
        start(2, 10);
        ns.addTable("demo", "t1", 2, 3, 10);
        ns.setAutoFailover(false);
        ns.setSessionTimeoutMillis(1500);
        assertEquals(0, code("ChangeLeader", changeLeader(0, "auto")));
        idle();
        ns.holdAtTask("kChangeLeader");
        assertEquals(0, code("ChangeLeader", changeLeader(1, "auto")));
        until(NameServerEmulator::held, "the second op is held kDoing");
        assertEquals(300, call(1, "ShowOPStatus", "{}", "sdefault").path("code").asInt(), "the standby is no leader");
        long crashed = System.currentTimeMillis();
        ns.crashNameServer();
        assertThrows(IOException.class, () -> call(0, "ShowOPStatus", "{}", "sdefault"), "the crashed listener is gone");
        assertEquals(2, ns.lockNodes().size(), "its lock node lingers");
        int code;
        do {
            code = call(1, "ShowOPStatus", "{}", "sdefault").path("code").asInt();
        } while (code == 300 && System.currentTimeMillis() - crashed < 10_000);
        assertEquals(0, code);
        assertTrue(System.currentTimeMillis() - crashed >= 1400, "300 until the session expired");
        assertEquals(1, ns.lockNodes().size());
        List<JsonNode> ops = new ArrayList<>();
        call(1, "ShowOPStatus", "{}", "sdefault").path("op_status").forEach(ops::add);
        assertEquals(1, ops.size(), "the finished op is forgotten; the unfinished one was recovered from ZooKeeper: " + ops);
        assertEquals(2, ops.get(0).path("op_id").asLong());
        idle();
        assertEquals(2, ns.staleRows(), "the recovered op finished");
    }

    @Test
    void authAsTheVersionsBehave() throws Exception {
        start(1, 10);
        assertThrows(IOException.class, () -> call(0, "ShowTablet", "{}", "uroot:1wrong"), "CHECK: a wrong credential closes the connection");
        assertEquals(0, call(0, "ShowTablet", "{}", "sdefault").path("code").asInt());
        ns.authMode(NameServerEmulator.AuthMode.SKIP_GRANT);
        assertEquals(0, call(0, "ShowTablet", "{}", "uroot:1wrong").path("code").asInt(), "0.9.1+ skip_grant_tables: any credential");
        assertThrows(IOException.class, () -> call(0, "ShowTablet", "{}", null), "but brpc needs the header");
        ns.authMode(NameServerEmulator.AuthMode.NONE);
        assertEquals(0, call(0, "ShowTablet", "{}", null).path("code").asInt(), "0.9.0: no authenticator");
    }

    @Test
    void showTableWithDbAlsoReturnsLegacyTablesOfThatNameAndConfSetValidates() throws Exception {
        start(1, 10);
        ns.addTable("demo", "t1", 1, 1, 1);
        ns.addTable("", "t1", 1, 1, 1);
        assertEquals(2, call("ShowTable", "{\"db\":\"demo\",\"name\":\"t1\"}").path("table_info").size());
        assertEquals(307, code("ConfSet", "{\"conf\":{\"key\":\"auto_failover\",\"value\":\"yes\"}}"));
        assertEquals(307, code("ConfSet", "{\"conf\":{\"key\":\"other\",\"value\":\"true\"}}"));
        assertEquals(0, code("ConfSet", "{\"conf\":{\"key\":\"auto_failover\",\"value\":\"FALSE\"}}"));
        assertFalse(ns.autoFailover());
    }
}
