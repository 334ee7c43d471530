package io.tabletop.connector.openmldb;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.RemoveServers;
import io.tabletop.planner.ScaleOut;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenMLDB connector against a real ZooKeeper and the nameserver emulator (no OpenMLDB server runs
 * here): seed 002's scale-in of one tablet of three, the operator stopping it, auto_failover off for the run
 * and back after it, an op that fails, a nameserver failover mid-run, and the documented refusals.
 */
class OpenMldbConnectorTest {
    private final RemovalService service = new RemovalService();

    /** Three tablets; demo.t1 with 6 partitions at replica_num 2, and a system table at 2. */
    static OpenMldbCluster seed002(String auth, int nameservers) throws Exception {
        OpenMldbCluster c = new OpenMldbCluster(auth, nameservers, 10);
        for (int n = 1; n <= 3; n++) {
            c.ns.addTablet(n);
        }
        c.ns.addTable("demo", "t1", 6, 2, 1000);
        c.ns.addTable("__INTERNAL_DB", "PRE_AGG_META_INFO", 1, 2, 3);
        return c;
    }

    /** Runs the plan through Runs (journal, audit, settings), stopping the tablet when its stop step starts, as an operator would. */
    private RunResult run(Runs runs, RemovalService.PreCheck pc, ClusterConnector c, OpenMldbCluster cl, String spec) throws Exception {
        Runs.Run run = runs.start(pc.plan(), c, spec, false, ExecutorOptions.defaults(1), cl.operator(), null);
        return run.done().get(2, TimeUnit.MINUTES);
    }

    @Test
    void seed002ScaleInMovesEveryReplicaOffTheTabletWithAutoFailoverOffOnlyMeanwhile(@TempDir Path dir) throws Exception {
        try (OpenMldbCluster cl = seed002("sdefault", 1); ClusterConnector c = cl.open(cl.spec(), null)) {
            ClusterSnapshot s = c.snapshot();
            assertEquals(3, s.servers().size());
            assertEquals(7, s.partitions().size());
            assertTrue(s.partitions().stream().allMatch(p -> p.leader().isPresent()));
            assertEquals(Verdict.WARN, c.health().verdict(), "auto_failover is on");
            String gone = "127.0.2.3:10921";
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(gone)), true, 0.85));
            assertNotNull(pc.plan(), pc.checks().toString());
            assertTrue(pc.plan().steps().stream().anyMatch(x -> x.type() == StepType.TRANSFER_LEADER), "tablet 3 leads partitions");
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            RunResult r = run(runs, pc, c, cl, cl.spec());
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertTrue(cl.ns.autoFailover(), "auto_failover is on again after the run");
            assertTrue(cl.ns.requests().contains("/NameServer/ConfSet"));
            Map<String, int[]> loads = cl.ns.loads();
            assertEquals(0, loads.get(gone)[0], "nothing alive is left on the tablet");
            ClusterSnapshot after = c.snapshot();
            for (Partition p : after.partitions()) {
                assertEquals(after.table(p.table()).orElseThrow().replicationFactor(), p.replicas().size(), p.id() + " at replica_num");
                assertTrue(p.leader().isPresent(), p.id() + " has an alive leader");
            }
            int[] a = loads.get("127.0.2.1:10921");
            int[] b = loads.get("127.0.2.2:10921");
            assertTrue(Math.abs(a[0] - b[0]) <= 1 && Math.abs(a[1] - b[1]) <= 1, "replicas and leaders within 1: " + a[0] + "/" + a[1]
                    + " vs " + b[0] + "/" + b[1]);
            List<CheckResult> post = service.postChecks(pc.plan(), c, pc.rows());
            assertTrue(post.stream().noneMatch(x -> x.verdict() == Verdict.BLOCK), post.toString());
            Path runDir;
            try (var dirs = Files.list(dir.resolve("runs"))) {
                runDir = dirs.findFirst().orElseThrow();
            }
            String journal = Files.readString(runDir.resolve("journal.jsonl"));
            assertTrue(journal.contains("settings-changed") && journal.contains("settings-restored"), "the journal says what was changed and put back");
        }
    }

    @Test
    void scaleOutOntoANewTabletEvensReplicasAndLeaders(@TempDir Path dir) throws Exception {
        try (OpenMldbCluster cl = seed002("sdefault", 1); ClusterConnector c = cl.open(cl.spec(), null)) {
            cl.ns.addTable("demo", "t2", 6, 3, 500);
            cl.ns.addTable("demo", "t_single", 6, 1, 10);
            String fresh = cl.ns.addTablet(4);
            RemovalService.PreCheck pc = service.preCheck(c, new ScaleOut(List.of(ServerId.of(fresh)), true));
            assertNotNull(pc.plan(), pc.checks().toString());
            assertTrue(pc.checks().stream().anyMatch(x -> x.name().equals("Single replicas") && x.verdict() == Verdict.WARN),
                    "single-replica partitions move too, with the warning: " + pc.checks());
            assertTrue(pc.plan().steps().stream().noneMatch(x -> x.type() == StepType.MOVE_REPLICA
                    && pc.snapshot().partition(x.partition()).map(p -> p.replicas().size() > 1).orElse(false)
                    && pc.snapshot().partition(x.partition()).flatMap(Partition::leader).map(x.from()::equals).orElse(false)
                    && pc.plan().steps().stream().noneMatch(t -> t.type() == StepType.TRANSFER_LEADER && t.partition().equals(x.partition())
                    && t.index() < x.index())), "no leader of a partition with followers is migrated without its hand-over first");
            RunResult r = run(new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl"))), pc, c, cl, cl.spec());
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            Map<String, int[]> loads = cl.ns.loads();
            int minR = loads.values().stream().mapToInt(a -> a[0]).min().orElseThrow();
            int maxR = loads.values().stream().mapToInt(a -> a[0]).max().orElseThrow();
            int minL = loads.values().stream().mapToInt(a -> a[1]).min().orElseThrow();
            int maxL = loads.values().stream().mapToInt(a -> a[1]).max().orElseThrow();
            assertTrue(maxR - minR <= 1 && maxL - minL <= 1, "replicas " + minR + ".." + maxR + ", leaders " + minL + ".." + maxL);
            assertTrue(loads.get(fresh)[0] > 0);
            assertTrue(cl.ns.autoFailover());
        }
    }

    @Test
    void aSingleReplicaPartitionMovesThroughASecondReplicaWithAWarning(@TempDir Path dir) throws Exception {
        try (OpenMldbCluster cl = seed002("sdefault", 1); ClusterConnector c = cl.open(cl.spec(), null)) {
            cl.ns.addTable("demo", "t_single", 3, 1, 42); // seed 002's replica_num 1 table: one partition on each tablet
            String gone = "127.0.2.3:10921";
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(gone)), true, 0.85));
            assertNotNull(pc.plan(), pc.checks().toString());
            CheckResult single = pc.checks().stream().filter(x -> x.name().equals("Single replicas")).findFirst().orElseThrow();
            assertEquals(Verdict.WARN, single.verdict());
            assertTrue(single.message().contains("demo.t_single/2"), single.message());
            Path audit = dir.resolve("audit.jsonl");
            RunResult r = run(new Runs(dir.resolve("runs"), new AuditLog(audit)), pc, c, cl, cl.spec());
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            for (String m : List.of("/NameServer/AddReplicaNS", "/NameServer/ChangeLeader", "/NameServer/RecoverTable", "/NameServer/DelReplicaNS")) {
                assertTrue(cl.ns.requests().contains(m), m + " was called");
            }
            Partition moved = c.snapshot().partition(io.tabletop.domain.PartitionId.of("demo.t_single/2")).orElseThrow();
            assertEquals(1, moved.replicas().size(), "still one replica");
            assertFalse(moved.isOn(ServerId.of(gone)));
            assertTrue(moved.leader().isPresent());
            assertEquals(0, cl.ns.loads().get(gone)[0]);
            assertTrue(Files.readString(audit).contains("move the only replica of demo.t_single/2"), "the dance is audited");
        }
    }

    @Test
    void anOpThatFailsStopsTheRunWithItsTaskAndAutoFailoverIsPutBack(@TempDir Path dir) throws Exception {
        try (OpenMldbCluster cl = seed002("sdefault", 1); ClusterConnector c = cl.open(cl.spec(), null)) {
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of("127.0.2.3:10921")), true, 0.85));
            cl.ns.failAtTask("kSendSnapshot");
            RunResult r = run(new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl"))), pc, c, cl, cl.spec());
            assertEquals(RunState.FAILED, r.state());
            String why = r.failures().get(0).message();
            assertTrue(why.contains("failed at task kSendSnapshot") && why.contains("kMigrateOP"), why);
            assertTrue(cl.ns.autoFailover(), "put back after a failed run too");
            assertEquals(Verdict.BLOCK, c.health().verdict(), "the failed op blocks the next pre-check until it is dealt with");

            // The operator fixes the cause and deletes the failed op; the resume re-plans what is left and finishes.
            cl.ns.deleteFailedOps();
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.RunInfo info = runs.list(new java.util.ArrayList<>()).get(0);
            assertEquals("FAILED", info.state());
            Runs.Resume resume = runs.prepareResume(info, c);
            assertNotNull(resume.plan(), resume.checks().toString());
            Runs.Run again = runs.resume(resume, c, ExecutorOptions.defaults(1), cl.operator(), null);
            assertEquals(RunState.SUCCEEDED, again.done().get(2, TimeUnit.MINUTES).state());
            assertEquals(0, cl.ns.loads().get("127.0.2.3:10921")[0]);
            assertTrue(cl.ns.autoFailover());
        }
    }

    @Test
    void aNameserverFailoverMidRunIsFollowed(@TempDir Path dir) throws Exception {
        try (OpenMldbCluster cl = seed002("sdefault", 2); ClusterConnector c = cl.open(cl.spec(), null)) {
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of("127.0.2.3:10921")), true, 0.85));
            java.util.concurrent.atomic.AtomicBoolean failedOver = new java.util.concurrent.atomic.AtomicBoolean();
            Runs.Run run = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl"))).start(pc.plan(), c, cl.spec(), false,
                    ExecutorOptions.defaults(1), cl.new Operator() {
                        @Override
                        public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                            if (to == StepState.SUCCEEDED && failedOver.compareAndSet(false, true)) {
                                try {
                                    cl.ns.failOverNameServer(); // after the first step, the leader goes; the standby leads now
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            }
                            super.stepStateChanged(step, from, to, message);
                        }
                    }, null);
            RunResult r = run.done().get(2, TimeUnit.MINUTES);
            assertTrue(failedOver.get());
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertEquals(0, cl.ns.loads().get("127.0.2.3:10921")[0]);
        }
    }

    @Test
    void tooManyTabletsRemovedNamesTheTables() throws Exception {
        try (OpenMldbCluster cl = seed002("sdefault", 1); ClusterConnector c = cl.open(cl.spec(), null)) {
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of("127.0.2.2:10921"), ServerId.of("127.0.2.3:10921")),
                    true, 0.85));
            assertEquals(null, pc.plan());
            assertTrue(pc.checks().stream().anyMatch(x -> x.verdict() == Verdict.BLOCK && x.message().contains("demo.t1")), pc.checks().toString());
        }
    }

    @Test
    void aWrongPasswordNoZooKeeperAndNoLeaderAreOneLineEach() throws Exception {
        String auth = "uadmin:1" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest("right".getBytes(StandardCharsets.UTF_8)));
        try (OpenMldbCluster cl = seed002(auth, 1)) {
            try (ClusterConnector ok = cl.open("openmldb://admin@" + cl.zkConnect() + "/openmldb", "right")) {
                assertEquals(3, ok.snapshot().servers().size());
            }
            ConnectorException wrong = assertThrows(ConnectorException.class, () -> cl.open("openmldb://admin@" + cl.zkConnect() + "/openmldb", "wrong"));
            assertTrue(wrong.getMessage().contains("closed the connection without a reply, 3 times: either it refuses this user name or password"),
                    wrong.getMessage());
            assertFalse(wrong.getMessage().contains("wrong\n") || wrong.getMessage().contains("right"));
            ConnectorException noRoot = assertThrows(ConnectorException.class, () -> cl.open("openmldb://" + cl.zkConnect() + "/elsewhere", null));
            assertTrue(noRoot.getMessage().contains("no OpenMLDB under /elsewhere"), noRoot.getMessage());
            cl.ns.failOverNameServer(); // the only nameserver goes
            ConnectorException noLeader = assertThrows(ConnectorException.class, () -> cl.open("openmldb://admin@" + cl.zkConnect() + "/openmldb", "right"));
            assertTrue(noLeader.getMessage().contains("no nameserver leader is registered under /openmldb/leader"), noLeader.getMessage());
        }
        ConnectorException noZk = assertThrows(ConnectorException.class, () -> new OpenMldbProvider().open(
                new OpenMldbProvider().parse("openmldb://127.0.0.1:1/openmldb"), io.tabletop.connector.EngineProvider.OpenOptions.defaults()));
        assertTrue(noZk.getMessage().contains("did not answer within 3 s"), noZk.getMessage());
    }

    @Test
    void aZooKeeperWithDigestAuthNeedsItsUserAndPassword() throws Exception {
        try (OpenMldbCluster cl = new OpenMldbCluster("sdefault", 1, 10, "openmldb:zk-secret")) {
            cl.ns.addTablet(1);
            cl.ns.addTablet(2);
            ConnectorException none = assertThrows(ConnectorException.class, () -> cl.open(cl.spec(), null));
            assertTrue(none.getMessage().contains("ZooKeeper refused to show /openmldb") && none.getMessage().contains("?zk_user="),
                    none.getMessage());
            ConnectorException wrong = assertThrows(ConnectorException.class, () -> cl.open(cl.spec() + "?zk_user=openmldb", null, "nope"));
            assertTrue(wrong.getMessage().contains("ZooKeeper refused"), wrong.getMessage());
            assertFalse(wrong.getMessage().contains("nope"));
            try (ClusterConnector c = cl.open(cl.spec() + "?zk_user=openmldb", null, "zk-secret")) {
                assertEquals(2, c.snapshot().servers().size());
            }
        }
    }

    @Test
    void specsReadAsTheOpsToolTakesThem() {
        OpenMldbProvider p = new OpenMldbProvider();
        OpenMldbProvider.Spec s = p.parse("openmldb://127.0.0.1:2181,127.0.0.2:2181/openmldb_cluster");
        assertEquals(List.of("127.0.0.1:2181", "127.0.0.2:2181"), s.zookeeper());
        assertEquals("/openmldb_cluster", s.root());
        assertEquals("/openmldb", p.parse("openmldb://127.0.0.1:2181").root());
        assertEquals("127.0.2.9:7527", p.parse("openmldb+ns://127.0.2.9:7527").nameserver());
        assertThrows(IllegalArgumentException.class, () -> p.parse("openmldb://u:pw@127.0.0.1:2181"));
        assertThrows(IllegalArgumentException.class, () -> p.parse("openmldb://zk-without-port/openmldb"));
    }
}
