package io.tabletop.connector.couchbase;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.SecretSource;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.emulator.NsServerEmulator;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.PlanExecution;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.BucketForecast;
import io.tabletop.planner.Plan;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Couchbase connector against the ns_server emulator (no Couchbase Server runs here): seed 001 through
 * the connector, the documented refusals, failures, cancel and resume, TLS, and the light live refresh.
 */
class CouchbaseConnectorTest {
    static final String PASSWORD = "s3cret-Couchbase-pw";
    private static final long[] SEED_ACTIVE_ITEMS = {7_932, 7_895, 7_876, 7_888};
    private final CouchbaseProvider provider = new CouchbaseProvider();
    private final RemovalService service = new RemovalService();

    /** Seed 001's cluster: four data nodes, one bucket of 31,591 items with two replicas. */
    static NsServerEmulator seed001(int movesPerTick) throws Exception {
        NsServerEmulator.Builder b = NsServerEmulator.builder().credentials("Administrator", PASSWORD).pace(movesPerTick, 20);
        for (int n = 1; n <= 4; n++) {
            b.dataNode(n);
        }
        return b.bucketWithNodeItems("travel-sample", 2, 1024, SEED_ACTIVE_ITEMS).start();
    }

    static String spec(NsServerEmulator emu) {
        return "couchbase://Administrator@" + String.join(",", emu.hosts());
    }

    ClusterConnector open(String spec, String password) throws ConnectorException {
        return provider.open(provider.parse(spec), new EngineProvider.OpenOptions(r -> Optional.of(password.toCharArray()), false));
    }

    private RunResult run(Plan plan, ClusterConnector c, ExecutionListener listener) throws Exception {
        return service.execution(plan, c, ExecutorOptions.defaults(plan.summary().maxMovesPerServer()), listener, null)
                .start().get(2, TimeUnit.MINUTES);
    }

    private static void assertWithin(long expected, long actual, String what) {
        double off = Math.abs(actual - expected) / (double) expected;
        assertTrue(off <= 0.01, what + ": forecast " + actual + ", seed 001 says " + expected + String.format(" (%.2f%% off)", off * 100));
    }

    @Test
    void seed001RemoveNode4PreviewsTable2AndTheRebalanceEjectsIt() throws Exception {
        try (NsServerEmulator emu = seed001(64); ClusterConnector c = open(spec(emu), PASSWORD)) {
            ClusterSnapshot s = c.snapshot();
            assertEquals(4, s.servers().size());
            assertEquals(1024, s.partitions().size());
            assertEquals(3, s.tables().get(0).replicationFactor());
            ServerId node4 = ServerId.of(emu.otpNode(3));
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(node4), false, 0.85));
            assertNotNull(pc.plan(), pc.checks().toString());
            BucketForecast f = pc.plan().forecast().get(0);
            long[][] table2 = {{10_497, 21_000}, {10_500, 21_000}, {10_400, 21_000}};
            for (int n = 0; n < 3; n++) {
                assertWithin(table2[n][0], f.nodes().get(n).activeItemsAfter(), "table 2 node " + (n + 1) + " active items");
                assertWithin(table2[n][1], f.nodes().get(n).replicaItemsAfter(), "table 2 node " + (n + 1) + " replica items");
            }
            assertEquals(1, pc.plan().steps().size());
            assertTrue(c.command(pc.plan().steps().get(0)).contains("uuid=" + emu.uuid()), "the controller call carries the cluster's uuid");
            assertTrue(pc.checks().stream().anyMatch(x -> x.name().equals("Bucket memory") && x.verdict() == Verdict.PASS), pc.checks().toString());

            RunResult r = run(pc.plan(), c, ExecutionListener.NONE);
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertFalse(emu.members().contains(node4.value()), "node 4 left the cluster");
            List<CheckResult> post = service.postChecks(pc.plan(), c, pc.rows());
            assertTrue(post.stream().noneMatch(x -> x.verdict() == Verdict.BLOCK), post.toString());
            assertTrue(post.stream().anyMatch(x -> x.name().equals("Row counts") && x.verdict() == Verdict.PASS), post.toString());
            assertTrue(post.stream().anyMatch(x -> x.name().equals("Forecast and result")), post.toString());
            assertEquals(2048, emu.replicaCopies("travel-sample"), "three nodes keep both replicas of every vBucket");
        }
    }

    @Test
    void seed001RemoveNodes3And4KeepsOneReplicaAndSaysSo() throws Exception {
        try (NsServerEmulator emu = seed001(128); ClusterConnector c = open(spec(emu), PASSWORD)) {
            List<ServerId> two = List.of(ServerId.of(emu.otpNode(2)), ServerId.of(emu.otpNode(3)));
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(two, false, 0.85));
            assertNotNull(pc.plan(), pc.checks().toString());
            CheckResult replicas = pc.checks().stream().filter(x -> x.name().equals("Replicas")).findFirst().orElseThrow();
            assertEquals(Verdict.WARN, replicas.verdict());
            assertTrue(replicas.message().contains("keeps 1 of its 2"), replicas.message());
            BucketForecast f = pc.plan().forecast().get(0);
            long[][] table3 = {{15_897, 15_700}, {15_700, 15_800}};
            for (int n = 0; n < 2; n++) {
                assertWithin(table3[n][0], f.nodes().get(n).activeItemsAfter(), "table 3 node " + (n + 1) + " active items");
                assertWithin(table3[n][1], f.nodes().get(n).replicaItemsAfter(), "table 3 node " + (n + 1) + " replica items");
            }
            assertEquals(List.of(emu.otpNode(2), emu.otpNode(3)), pc.plan().steps().get(0).servers().stream().map(ServerId::value).toList(),
                    "one rebalance ejects the whole set");
            RunResult r = run(pc.plan(), c, ExecutionListener.NONE);
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertEquals(List.of(emu.otpNode(0), emu.otpNode(1)), emu.members());
            assertEquals(1024, emu.replicaCopies("travel-sample"), "two nodes keep one replica");
            assertTrue(service.postChecks(pc.plan(), c, pc.rows()).stream().noneMatch(x -> x.verdict() == Verdict.BLOCK));
        }
    }

    @Test
    void bucketMemoryAndServerGroupsAreCheckedAgainstWhatRemains() throws Exception {
        // 31,591 items × 3 copies × 1,200 bytes ≈ 114 MB in 3,072 vBucket copies: 768 copies a node on four (28 MB),
        // 1,024 on three (38 MB), against a 40 MiB quota's high-water mark of 35.7 MB
        try (NsServerEmulator emu = NsServerEmulator.builder().credentials("Administrator", PASSWORD).ramPerNode(40L << 20)
                .dataNode(1).dataNode(2).dataNode(3).dataNode(4).bucketWithNodeItems("travel-sample", 2, 1024, SEED_ACTIVE_ITEMS).start();
             ClusterConnector c = open(spec(emu), PASSWORD)) {
            RemovalService.PreCheck one = service.preCheck(c, new RemoveServers(List.of(ServerId.of(emu.otpNode(3))), false, 0.85));
            CheckResult tight = one.checks().stream().filter(x -> x.name().equals("Bucket memory")).findFirst().orElseThrow();
            assertEquals(Verdict.WARN, tight.verdict(), tight.message());
            assertTrue(tight.message().contains("bucket travel-sample on " + emu.otpNode(0)) && tight.message().contains("quota of 42 MB"),
                    tight.message());
        }
        // Two groups of two: removing one node leaves them 2 and 1, and the replicas capped by the larger group
        try (NsServerEmulator emu = NsServerEmulator.builder().credentials("Administrator", PASSWORD)
                .node(1, List.of("kv"), "Group 1").node(2, List.of("kv"), "Group 1").node(3, List.of("kv"), "Group 2").node(4, List.of("kv"), "Group 2")
                .bucketWithNodeItems("travel-sample", 2, 1024, SEED_ACTIVE_ITEMS).start();
             ClusterConnector c = open(spec(emu), PASSWORD)) {
            RemovalService.PreCheck one = service.preCheck(c, new RemoveServers(List.of(ServerId.of(emu.otpNode(3))), false, 0.85));
            CheckResult groups = one.checks().stream().filter(x -> x.name().equals("Server groups")).findFirst().orElseThrow();
            assertEquals(Verdict.WARN, groups.verdict());
            assertTrue(groups.message().contains("Group 1: 2, Group 2: 1"), groups.message());
            assertTrue(one.checks().stream().anyMatch(x -> x.name().equals("Replicas") && x.message().contains("keeps 1 of its 2")), one.checks().toString());
            RemovalService.PreCheck two = service.preCheck(c, new RemoveServers(List.of(ServerId.of(emu.otpNode(1)), ServerId.of(emu.otpNode(3))), false, 0.85));
            assertTrue(two.checks().stream().noneMatch(x -> x.name().equals("Server groups")), "one node in each group is even");
        }
    }

    @Test
    void gracefulFailoverFirstThenTheRebalanceEjectsTheNode() throws Exception {
        try (NsServerEmulator emu = seed001(64); ClusterConnector c = open(spec(emu), PASSWORD)) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(node4), false, 0.85,
                    RemoveServers.Strategy.FAILOVER_FIRST));
            assertNotNull(pc.plan(), pc.checks().toString());
            assertEquals(List.of(StepType.FAILOVER, StepType.ENGINE_REBALANCE), pc.plan().steps().stream().map(Step::type).toList());
            assertTrue(c.command(pc.plan().steps().get(0)).contains("startGracefulFailover?uuid=" + emu.uuid() + " otpNode=" + node4.value()));
            RunResult r = run(pc.plan(), c, ExecutionListener.NONE);
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertTrue(emu.requests().contains("POST /controller/startGracefulFailover"));
            assertFalse(emu.members().contains(node4.value()), "the rebalance ejected the failed-over node");
            assertEquals(2048, emu.replicaCopies("travel-sample"), "and rebuilt both replicas on the three left");
            assertTrue(service.postChecks(pc.plan(), c, pc.rows()).stream().noneMatch(x -> x.verdict() == Verdict.BLOCK));
        }
        try (NsServerEmulator emu = NsServerEmulator.builder().credentials("Administrator", PASSWORD).dataNode(1).dataNode(2)
                .bucket("cache", 0, 64, 640).start(); ClusterConnector c = open(spec(emu), PASSWORD)) {
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(emu.otpNode(1))), false, 0.85,
                    RemoveServers.Strategy.FAILOVER_FIRST));
            assertNull(pc.plan());
            assertTrue(pc.checks().stream().anyMatch(x -> x.verdict() == Verdict.BLOCK && x.message().contains("cache")), pc.checks().toString());
        }
    }

    @Test
    void aWrongPasswordIsOneLineAndNamesTheUser() throws Exception {
        try (NsServerEmulator emu = seed001(64)) {
            ConnectorException e = assertThrows(ConnectorException.class, () -> open(spec(emu), "not-the-password"));
            assertEquals(ConnectorException.Kind.REFUSED, e.kind());
            assertTrue(e.getMessage().contains("wrong user name or password for 'Administrator' (HTTP 401)"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            assertFalse(e.getMessage().contains("not-the-password"));
        }
    }

    @Test
    void anUnreachableNodeIsSkippedAndNoneReachableSaysWhere() throws Exception {
        try (NsServerEmulator emu = seed001(64)) {
            emu.silence(0);
            try (ClusterConnector c = open(spec(emu), PASSWORD)) {
                assertEquals(4, c.snapshot().servers().size(), "the next node answered");
            }
            ConnectorException e = assertThrows(ConnectorException.class, () -> open("couchbase://Administrator@127.0.1.250:1,"
                    + emu.hosts().get(0), PASSWORD));
            assertTrue(e.getMessage().contains("no node answered"), e.getMessage());
            assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
        }
    }

    @Test
    void aNodeAddedAfterThePreviewStopsTheRunAndAsksForANewPreview() throws Exception {
        try (NsServerEmulator emu = seed001(64); ClusterConnector c = open(spec(emu), PASSWORD)) {
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(emu.otpNode(3))), false, 0.85));
            emu.addNode(5);
            CountDownLatch paused = new CountDownLatch(1);
            List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
            PlanExecution ex = service.execution(pc.plan(), c, ExecutorOptions.defaults(4), new ExecutionListener() {
                @Override
                public void runStateChanged(RunState from, RunState to) {
                    if (to == RunState.PAUSED) {
                        paused.countDown();
                    }
                }

                @Override
                public void log(Level level, String message) {
                    log.add(message);
                }
            }, null);
            var result = ex.start();
            assertTrue(paused.await(60, TimeUnit.SECONDS), "the run paused before the rebalance");
            assertTrue(log.stream().anyMatch(l -> l.contains("joined since the preview") && l.contains("preview again")), log.toString());
            assertFalse(emu.rebalanceRunning());
            assertTrue(emu.requests().stream().noneMatch(r -> r.startsWith("POST /controller/rebalance")), "no rebalance was posted");
            ex.cancel();
            assertEquals(RunState.CANCELLED, result.get(60, TimeUnit.SECONDS).state());
            assertEquals(5, emu.members().size(), "nothing was ejected");
        }
    }

    @Test
    void aRebalanceThatFailsHalfWayIsReportedAndRunningItAgainFinishes() throws Exception {
        try (NsServerEmulator emu = seed001(16); ClusterConnector c = open(spec(emu), PASSWORD)) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            emu.failAfterMoves(300);
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(node4), false, 0.85));
            RunResult r = run(pc.plan(), c, ExecutionListener.NONE);
            assertEquals(RunState.FAILED, r.state());
            String why = r.failures().get(0).message();
            assertTrue(why.contains("Rebalance failed. See logs") && why.contains("/logs/rebalanceReport?reportID="), why);
            assertTrue(emu.members().contains(node4.value()), "a failed rebalance ejects nothing");
            assertTrue(emu.movesDone() >= 300);
            // The resume: the same removal planned from the cluster as it is now, posted again.
            RemovalService.PreCheck again = service.preCheck(c, new RemoveServers(List.of(node4), false, 0.85));
            assertNotNull(again.plan(), again.checks().toString());
            RunResult done = run(again.plan(), c, ExecutionListener.NONE);
            assertEquals(RunState.SUCCEEDED, done.state(), done.failures().toString());
            assertFalse(emu.members().contains(node4.value()));
        }
    }

    @Test
    void cancelStopsTheRebalanceAndTheNextRunContinuesFromTheCurrentMap() throws Exception {
        try (NsServerEmulator emu = seed001(4); ClusterConnector c = open(spec(emu), PASSWORD)) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(node4), false, 0.85));
            CountDownLatch moving = new CountDownLatch(1);
            CountDownLatch perNode = new CountDownLatch(1);
            PlanExecution ex = service.execution(pc.plan(), c, ExecutorOptions.defaults(4), new ExecutionListener() {
                @Override
                public void stepProgress(Step step, double fraction, String message) {
                    if (fraction > 0.02) {
                        moving.countDown();
                    }
                }

                @Override
                public void stepParts(Step step, Map<String, Double> fractions) {
                    if (fractions.size() == 4) {
                        perNode.countDown();
                    }
                }
            }, null);
            var result = ex.start();
            assertTrue(moving.await(60, TimeUnit.SECONDS), "the rebalance made progress");
            assertTrue(perNode.await(10, TimeUnit.SECONDS), "progress came per node");
            ex.cancel();
            RunResult r = result.get(60, TimeUnit.SECONDS);
            assertEquals(RunState.CANCELLED, r.state());
            assertEquals(StepState.CANCELLED, r.steps().get(0).state(), "the rebalance step was stopped, not failed");
            assertFalse(emu.rebalanceRunning(), "stopRebalance was posted");
            int moved = emu.movesDone();
            assertTrue(moved > 0 && emu.members().contains(node4.value()), "moved vBuckets stay moved; the node stays a member");
            RemovalService.PreCheck again = service.preCheck(c, new RemoveServers(List.of(node4), false, 0.85));
            RunResult done = run(again.plan(), c, ExecutionListener.NONE);
            assertEquals(RunState.SUCCEEDED, done.state(), done.failures().toString());
            assertTrue(emu.movesDone() < 1024, "the second rebalance moved only what was left (" + emu.movesDone() + ")");
            assertFalse(emu.members().contains(node4.value()));
        }
    }

    @Test
    void aCancelledRunIsResumedFromItsJournalAndPostsTheSameRebalanceAgain(@TempDir Path dir) throws Exception {
        Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
        try (NsServerEmulator emu = seed001(4); ClusterConnector c = open(spec(emu), PASSWORD)) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(node4), false, 0.85));
            CountDownLatch moving = new CountDownLatch(1);
            Runs.Run run = runs.start(pc.plan(), c, spec(emu), false, ExecutorOptions.defaults(4), new ExecutionListener() {
                @Override
                public void stepProgress(Step step, double fraction, String message) {
                    if (fraction > 0.02) {
                        moving.countDown();
                    }
                }
            }, null);
            assertTrue(moving.await(60, TimeUnit.SECONDS));
            run.cancel();
            assertEquals(RunState.CANCELLED, run.done().get(60, TimeUnit.SECONDS).state());
            assertTrue(emu.members().contains(node4.value()));
            long posts = emu.requests().stream().filter(r -> r.equals("POST /controller/rebalance")).count();

            Runs.RunInfo info = runs.find(run.runId());
            assertTrue(info.resumable(), info.state());
            Runs.Resume resume = runs.prepareResume(info, c);
            assertNotNull(resume.plan(), resume.checks().toString());
            assertEquals(List.of(StepType.ENGINE_REBALANCE), resume.plan().steps().stream().map(Step::type).toList());
            Runs.Run again = runs.resume(resume, c, ExecutorOptions.defaults(4), ExecutionListener.NONE, null);
            assertEquals(RunState.SUCCEEDED, again.done().get(2, TimeUnit.MINUTES).state());
            assertEquals(posts + 1, emu.requests().stream().filter(r -> r.equals("POST /controller/rebalance")).count(),
                    "the resume posted the rebalance once more");
            assertFalse(emu.members().contains(node4.value()));
            String audit = Files.readString(dir.resolve("audit.jsonl"));
            assertTrue(audit.contains("stopRebalance"), "the stop was audited with its request");
            assertFalse(audit.contains(PASSWORD));
        }
    }

    @Test
    void aBucketWithoutReplicasIsWarnedThatItsOnlyCopiesMove() throws Exception {
        try (NsServerEmulator emu = NsServerEmulator.builder().credentials("Administrator", PASSWORD)
                .dataNode(1).dataNode(2).dataNode(3).bucket("cache", 0, 64, 6_400).memcachedBucket("sessions").start();
             ClusterConnector c = open(spec(emu), PASSWORD)) {
            ClusterSnapshot s = c.snapshot();
            assertEquals(2, s.tables().size(), "the memcached bucket is listed");
            assertEquals(64, s.partitions().size(), "and holds no vBuckets");
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(emu.otpNode(2))), false, 0.85));
            CheckResult only = pc.checks().stream().filter(x -> x.name().equals("Replicas") && x.message().contains("cache")).findFirst().orElseThrow();
            assertEquals(Verdict.WARN, only.verdict());
            assertTrue(only.message().contains("only copy"), only.message());
        }
    }

    @Test
    void theLiveViewReadsTheMapsOnlyWhenTheyMayHaveChanged() throws Exception {
        try (NsServerEmulator emu = seed001(64); CouchbaseConnector c = (CouchbaseConnector) open(spec(emu), PASSWORD)) {
            c.snapshot();
            c.snapshot();
            c.snapshot();
            assertEquals(1, c.mapReads(), "unchanged maps are not downloaded again");
            assertEquals(1, emu.mapRequests());
            emu.addNode(5);
            ClusterSnapshot s = c.snapshot();
            assertEquals(2, c.mapReads(), "a membership change reads the maps again");
            assertEquals(5, s.servers().size());
        }
    }

    @Test
    void tlsTrustsTheGivenCaAndRefusesAnUnknownOne(@TempDir Path dir) throws Exception {
        Path ks = dir.resolve("emulator.p12");
        Path ca = dir.resolve("ca.pem");
        keytool("-genkeypair", "-alias", "cb", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=emulator",
                "-ext", "SAN=ip:127.0.1.1,ip:127.0.1.2", "-validity", "2", "-keystore", ks.toString(), "-storetype", "PKCS12",
                "-storepass", "changeit", "-keypass", "changeit");
        keytool("-exportcert", "-rfc", "-alias", "cb", "-keystore", ks.toString(), "-storepass", "changeit", "-file", ca.toString());
        try (NsServerEmulator emu = NsServerEmulator.builder().credentials("Administrator", PASSWORD).dataNode(1).dataNode(2)
                .bucket("b", 1, 64, 640).tls(ks, "changeit".toCharArray()).start()) {
            String hosts = String.join(",", emu.hosts());
            ConnectorException e = assertThrows(ConnectorException.class, () -> open("couchbases://Administrator@" + hosts, PASSWORD));
            assertTrue(e.getMessage().contains("not signed by a trusted CA"), e.getMessage());
            try (ClusterConnector c = open("couchbases://Administrator@" + hosts + "?ca=" + ca, PASSWORD)) {
                assertEquals(2, c.snapshot().servers().size());
            }
        }
    }

    @Test
    void withTlsANodeThatLeftHasANewSelfSignedCertificateAndIsSkipped(@TempDir Path dir) throws Exception {
        Path ks = dir.resolve("emulator.p12");
        Path ca = dir.resolve("ca.pem");
        keytool("-genkeypair", "-alias", "cb", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=emulator",
                "-ext", "SAN=ip:127.0.1.1,ip:127.0.1.2,ip:127.0.1.3", "-validity", "2", "-keystore", ks.toString(), "-storetype", "PKCS12",
                "-storepass", "changeit", "-keypass", "changeit");
        keytool("-exportcert", "-rfc", "-alias", "cb", "-keystore", ks.toString(), "-storepass", "changeit", "-file", ca.toString());
        try (NsServerEmulator emu = NsServerEmulator.builder().credentials("Administrator", PASSWORD).dataNode(1).dataNode(2).dataNode(3)
                .bucket("b", 1, 64, 640).tls(ks, "changeit".toCharArray()).start()) {
            String spec = "couchbases://Administrator@" + emu.hosts().get(2) + "," + emu.hosts().get(0) + "?ca=" + ca;
            try (ClusterConnector c = open(spec, PASSWORD)) {
                RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(emu.otpNode(2))), false, 0.85));
                assertNotNull(pc.plan(), pc.checks().toString());
                assertEquals(RunState.SUCCEEDED, run(pc.plan(), c, ExecutionListener.NONE).state());
            }
            try (ClusterConnector again = open(spec, PASSWORD)) { // the spec names the node that left first
                assertEquals(2, again.snapshot().servers().size());
            }
            ConnectorException e = assertThrows(ConnectorException.class, () -> open("couchbases://Administrator@" + emu.departedHosts().get(0)
                    + "?ca=" + ca, PASSWORD));
            assertTrue(e.getMessage().contains("TLS handshake failed"), e.getMessage());
        }
    }

    @Test
    void specsReadAsTheDocsWriteThem() {
        CouchbaseProvider.Spec s = provider.parse("couchbase://Administrator@127.0.1.5,127.0.1.6:9000");
        assertEquals(List.of("127.0.1.5:8091", "127.0.1.6:9000"), s.hosts());
        assertEquals("Administrator", s.userName());
        assertFalse(s.tls());
        assertEquals(List.of("127.0.1.7:18091"), provider.parse("couchbases://u@127.0.1.7").hosts());
        assertNull(provider.parse("couchbases://u@h").ca());
        IllegalArgumentException noUser = assertThrows(IllegalArgumentException.class, () -> provider.parse("couchbase://127.0.1.5"));
        assertTrue(noUser.getMessage().contains("name the user"), noUser.getMessage());
        IllegalArgumentException pw = assertThrows(IllegalArgumentException.class, () -> provider.parse("couchbase://u:pw@h"));
        assertTrue(pw.getMessage().contains("no password in the spec"), pw.getMessage());
        assertFalse(pw.getMessage().contains("pw@"), "the password is not repeated back");
    }

    @Test
    void withoutAPasswordTheConnectionSaysWhereToGiveIt() throws Exception {
        try (NsServerEmulator emu = seed001(64)) {
            ConnectorException e = assertThrows(ConnectorException.class,
                    () -> provider.open(provider.parse(spec(emu)), new EngineProvider.OpenOptions(SecretSource.NONE, false)));
            assertTrue(e.getMessage().contains(CouchbaseProvider.PASSWORD_VARIABLE), e.getMessage());
        }
    }

    @Test
    void aFailedOverNodeIsDeadAndTheRebalanceEjectsIt() throws Exception {
        try (NsServerEmulator emu = seed001(64); ClusterConnector c = open(spec(emu), PASSWORD)) {
            emu.loseNode(1);
            ClusterSnapshot s = c.snapshot();
            assertEquals(ServerState.DEAD, s.server(ServerId.of(emu.otpNode(1))).orElseThrow().state());
            assertEquals(Verdict.BLOCK, c.health().verdict(), "an unhealthy node blocks a rebalance");
            assertTrue(c.health().details().get(0).contains("unhealthy"), c.health().details().toString());
        }
    }

    private static void keytool(String... args) throws Exception {
        Path bin = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> cmd = new java.util.ArrayList<>(List.of(bin.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool: " + out);
    }
}
