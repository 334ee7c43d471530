package io.tabletop.connector.openmldb;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.TableId;
import io.tabletop.domain.Verdict;
import io.tabletop.emulator.NameServerEmulator;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenMLDB connector against the nameserver emulator as corrected from OpenMLDB v0.9.3's source
 * (src/docs/openmldb.md): followers that lag, RecoverTable that fails, ops that stay kDoing, two task queues,
 * an offline tablet, a nameserver that crashes with the shipped session timeout. Each test would fail with
 * the connector as it was before issue 29 (a named lagging candidate, a second op beside a running one, a
 * wait that ignores Cancel, a planned Migrate from an offline tablet, a retry budget shorter than the
 * session timeout).
 */
class OpenMldbFidelityTest {
    private static final String T1 = "127.0.2.1:10921";
    private static final String T2 = "127.0.2.2:10921";
    private static final String T3 = "127.0.2.3:10921";
    private static final String T4 = "127.0.2.4:10921";
    private final RemovalService service = new RemovalService();

    /** Four tablets; demo.t3 at replica_num 3 with 4 partitions (partition p led by tablet p+1, followed by the next two). */
    private static OpenMldbCluster fourTablets(int nameservers) throws Exception {
        OpenMldbCluster c = new OpenMldbCluster("sdefault", nameservers, 10);
        for (int n = 1; n <= 4; n++) {
            c.ns.addTablet(n);
        }
        c.ns.addTable("demo", "t3", 4, 3, 1000);
        c.ns.setAutoFailover(false);
        return c;
    }

    private static Step transfer(String partition, String from, String to) {
        return Step.transfer(0, PartitionId.of(partition), TableId.of(partition.substring(0, partition.indexOf('/'))), ServerId.of(from),
                ServerId.of(to), "test").withIndex(0);
    }

    private static Step move(String partition, String from, String to) {
        return Step.move(0, PartitionId.of(partition), TableId.of(partition.substring(0, partition.indexOf('/'))), ServerId.of(from),
                ServerId.of(to), 0, "test").withIndex(0);
    }

    private static Partition partition(ClusterConnector c, String id) throws ConnectorException {
        return c.snapshot().partition(PartitionId.of(id)).orElseThrow();
    }

    @Test
    void aLaggingFollowerIsNeverMadeLeaderAndACaughtUpOneIsObeyed() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            NameServerEmulator ns = cl.ns;
            ns.lag(T2, true);
            ns.write("demo", "t3", 0, 500);
            long leaderOffset = ns.offsets("demo", "t3", 0).get(T1);
            assertTrue(ns.await(() -> ns.offsets("demo", "t3", 0).get(T3) == leaderOffset, 10_000), "T3 catches up");
            assertTrue(ns.offsets("demo", "t3", 0).get(T2) < leaderOffset, "T2 lags: " + ns.offsets("demo", "t3", 0));

            // The plan asks for T2; T2 lags, so the nameserver chooses, and chooses the follower with every write.
            c.execute(transfer("demo.t3/0", T1, T2), ClusterConnector.StepProgress.NONE);
            Partition p = partition(c, "demo.t3/0");
            assertEquals(ServerId.of(T3), p.leader().orElseThrow(), ns.partition("demo", "t3", 0).toString());
            assertEquals(0, ns.lostRecords(), "no acknowledged write lost");
            assertEquals(ReplicaRole.FOLLOWER, p.roleOn(ServerId.of(T1)).orElseThrow(), "the old leader serves again (RecoverTable)");
            assertEquals(0, ns.staleRows());

            // Caught up again, a named follower is obeyed.
            ns.lag(T2, false);
            assertTrue(ns.await(() -> ns.offsets("demo", "t3", 0).get(T2).equals(ns.offsets("demo", "t3", 0).get(T3)), 10_000));
            c.execute(transfer("demo.t3/0", T3, T2), ClusterConnector.StepProgress.NONE);
            assertEquals(ServerId.of(T2), partition(c, "demo.t3/0").leader().orElseThrow());
            assertEquals(0, ns.lostRecords());
        }
    }

    @Test
    void aRecoverTableThatFailsIsSentAgainAndNoStaleRowRemains() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            cl.ns.failRecoverTable();
            c.execute(transfer("demo.t3/1", T2, T3), ClusterConnector.StepProgress.NONE);
            assertEquals(2, cl.ns.mutatingRequests().get("RecoverTable"), "the failed recovery, then one more");
            assertEquals(1, cl.ns.mutatingRequests().get("ChangeLeader"), "the hand-over itself is not repeated");
            assertEquals(0, cl.ns.staleRows(), cl.ns.partition("demo", "t3", 1).toString());
            Partition p = partition(c, "demo.t3/1");
            assertEquals(3, p.voterCount());
            assertFalse(p.leader().orElseThrow().equals(ServerId.of(T2)));
        }
    }

    @Test
    void aStaleRowLeftByAnEarlierProcessIsRecoveredNotHandedOverAgain() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            // A hand-over whose RecoverTable fails every time (each failure arms the next): the step fails, the stale row stays.
            cl.ns.failRecoverTable();
            ConnectorException e = assertThrows(ConnectorException.class, () -> c.execute(transfer("demo.t3/2", T3, T4),
                    new ClusterConnector.StepProgress() {
                        @Override
                        public void update(double f, String m) {
                        }

                        @Override
                        public void log(String line) {
                            if (line.contains("failed")) {
                                cl.ns.failRecoverTable();
                            }
                        }
                    }));
            assertTrue(e.getMessage().contains("RecoverTable") && e.getMessage().contains("tried " + OpenMldbConnector.RECOVER_TRIES + " times"),
                    e.getMessage());
            assertEquals(ConnectorException.Kind.REFUSED, e.kind());
            cl.ns.release();
            assertTrue(cl.ns.awaitOpsIdle(10_000));
            ClusterSnapshot s = c.snapshot();
            Partition p = s.partition(PartitionId.of("demo.t3/2")).orElseThrow();
            assertEquals(ReplicaRole.STALE, p.roleOn(ServerId.of(T3)).orElseThrow(), "the stale row is in the model, not hidden");
            assertEquals(2, p.voterCount());
            assertEquals(Verdict.BLOCK, c.health().verdict(), "the failed recoveries block a new run until dealt with");
            assertTrue(c.health().details().stream().anyMatch(d -> d.contains("kRecoverTableOP") && d.contains("deleteop")));

            // The retry (or a resume) finishes the hand-over with RecoverTable only.
            int changes = cl.ns.mutatingRequests().get("ChangeLeader");
            c.execute(transfer("demo.t3/2", T3, T4), ClusterConnector.StepProgress.NONE);
            assertEquals(changes, cl.ns.mutatingRequests().get("ChangeLeader"), "no second ChangeLeader");
            assertEquals(0, cl.ns.staleRows());
            assertEquals(3, partition(c, "demo.t3/2").voterCount());
            assertTrue(c.health().verdict() != Verdict.BLOCK, "a later recovery of the partition succeeded: the old failures only warn: "
                    + c.health().details());
        }
    }

    @Test
    void aRetryWhileTheFirstOpRunsSendsNothingNew() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            // partition 3 is led by T4 and followed by T1 and T2: move T1's copy to T3
            Step s = move("demo.t3/3", T1, T3);
            cl.ns.holdAtTask("kSendSnapshot");
            CompletableFuture<Void> first = CompletableFuture.runAsync(() -> {
                try {
                    c.execute(s, ClusterConnector.StepProgress.NONE);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(cl.ns.await(cl.ns::held, 20_000), "the Migrate op is held at kSendSnapshot");
            CountDownLatch waiting = new CountDownLatch(1);
            CompletableFuture<Void> retry = CompletableFuture.runAsync(() -> {
                try {
                    c.execute(s, (f, m) -> {
                        if (m.contains("runs already")) {
                            waiting.countDown();
                        }
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(waiting.await(20, TimeUnit.SECONDS), "the retry waits for the running op");
            cl.ns.release();
            first.get(60, TimeUnit.SECONDS);
            retry.get(60, TimeUnit.SECONDS);
            assertEquals(1, cl.ns.mutatingRequests().get("Migrate"), "one Migrate for two attempts");
            Partition p = partition(c, "demo.t3/3");
            assertFalse(p.isOn(ServerId.of(T1)));
            assertEquals(ReplicaRole.FOLLOWER, p.roleOn(ServerId.of(T3)).orElseThrow());
        }
    }

    @Test
    void cancelEndsAStepStuckInKDoingAndTheRunEnds(@TempDir Path dir) throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            cl.ns.setAutoFailover(true);
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(T4)), false, 0.85));
            assertNotNull(pc.plan(), pc.checks().toString());
            cl.ns.holdAtTask("kSendSnapshot");
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = runs.start(pc.plan(), c, cl.spec(), false, ExecutorOptions.defaults(1), cl.operator(), null);
            assertTrue(cl.ns.await(cl.ns::held, 60_000), "an op is stuck in kDoing");
            run.cancel();
            RunResult r = run.done().get(30, TimeUnit.SECONDS); // the op stays held: only the cancel ends the wait
            assertEquals(RunState.CANCELLED, r.state(), r.failures().toString());
            assertTrue(cl.ns.held(), "the op itself goes on in the nameserver");
            assertTrue(cl.ns.autoFailover(), "auto_failover is back on after the cancelled run");
            cl.ns.release();
        }
    }

    @Test
    void opsInFlightNeverExceedTheNameserversTaskQueuesAndShareOneReading(@TempDir Path dir) throws Exception {
        try (OpenMldbCluster cl = new OpenMldbCluster("sdefault", 1, 10)) {
            for (int n = 1; n <= 4; n++) {
                cl.ns.addTablet(n);
            }
            cl.ns.addTable("demo", "big", 16, 2, 1000);
            cl.ns.setAutoFailover(false);
            try (ClusterConnector c = cl.open(cl.spec(), null)) {
                RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(T4)), false, 0.85));
                assertNotNull(pc.plan(), pc.checks().toString());
                Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
                long started = System.nanoTime();
                // five moves per server asked for: the nameserver runs two ops at once, and so does the connector
                Runs.Run run = runs.start(pc.plan(), c, cl.spec(), false, ExecutorOptions.defaults(5), cl.operator(), null);
                RunResult r = run.done().get(5, TimeUnit.MINUTES);
                double seconds = (System.nanoTime() - started) / 1e9;
                assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
                assertTrue(cl.ns.opsQueuedMax() <= OpenMldbConnector.DEFAULT_QUEUES, "at most two ops asked for at once: " + cl.ns.opsQueuedMax());
                long reads = ((OpenMldbConnector) c).opReads();
                assertTrue(reads <= seconds / OpenMldbConnector.DEFAULT_POLL.toSeconds() + 3,
                        reads + " ShowOPStatus calls in " + seconds + " s: one shared reading a second, not one per step");
                assertEquals(0, cl.ns.loads().get(T4)[0]);
                assertEquals(0, cl.ns.staleRows());
            }
        }
    }

    @Test
    void anOfflineTabletWithCopiesIsRefusedWithWhatTheNameserverAllows() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            cl.ns.stopTablet(T4); // auto_failover off: its rows stay as they are (ns:1228-1232)
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(T4)), false, 0.85));
            CheckResult dead = pc.checks().stream().filter(x -> x.name().equals("Dead servers") && x.verdict() == Verdict.BLOCK)
                    .findFirst().orElseThrow(() -> new AssertionError(pc.checks().toString()));
            assertTrue(dead.message().contains("offlineendpoint") && dead.message().contains(T4), dead.message());
            assertEquals(null, pc.plan(), "no Migrate, RecoverTable or DelReplicaNS is planned from an offline tablet");
            assertFalse(cl.ns.mutatingRequests().containsKey("Migrate"));
        }
    }

    @Test
    void aNameserverCrashIsWaitedOutForTheWholeSessionTimeout() throws Exception {
        try (OpenMldbCluster cl = fourTablets(2); ClusterConnector c = cl.open(cl.spec(), null)) {
            // The shipped template's zk_session_timeout (10 s): the crashed leader's lock node lingers that long.
            cl.ns.crashNameServer();
            c.execute(move("demo.t3/3", T1, T3), ClusterConnector.StepProgress.NONE);
            Partition p = partition(c, "demo.t3/3");
            assertFalse(p.isOn(ServerId.of(T1)));
            assertTrue(p.isOn(ServerId.of(T3)));
            assertEquals(1, cl.ns.mutatingRequests().get("Migrate"));
        }
    }

    @Test
    void aDestinationWithAStaleRowIsNeverChosen() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            // A hand-over leaves T1's row of partition 0 stale; keep it so (RecoverTable fails every time).
            for (int i = 0; i < 10; i++) {
                cl.ns.failRecoverTable();
            }
            ConnectorException e = assertThrows(ConnectorException.class,
                    () -> c.execute(transfer("demo.t3/0", T1, T2), new ClusterConnector.StepProgress() {
                        @Override
                        public void update(double f, String m) {
                        }

                        @Override
                        public void log(String line) {
                            cl.ns.failRecoverTable();
                        }
                    }));
            assertTrue(e.getMessage().contains("RecoverTable"), e.getMessage());
            cl.ns.release();
            assertTrue(cl.ns.awaitOpsIdle(10_000));
            // Move T2's copy of partition 0 away (T2 is the leader now or a follower): T1 holds a stale row, so it is not a destination.
            ClusterSnapshot s = c.snapshot();
            assertEquals(ReplicaRole.STALE, s.partition(PartitionId.of("demo.t3/0")).orElseThrow().roleOn(ServerId.of(T1)).orElseThrow());
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(T3)), false, 0.85));
            if (pc.plan() != null) {
                assertTrue(pc.plan().steps().stream().noneMatch(x -> x.partition() != null && x.partition().value().equals("demo.t3/0")
                        && x.to() != null && x.to().value().equals(T1)), "never onto the stale row's tablet: " + pc.plan().steps());
            }
            ConnectorException refused = assertThrows(ConnectorException.class,
                    () -> c.execute(move("demo.t3/0", T3, T1), ClusterConnector.StepProgress.NONE));
            assertEquals(ConnectorException.Kind.DRIFT, refused.kind(), refused.getMessage());
            assertFalse(cl.ns.mutatingRequests().containsKey("Migrate"), "the Migrate that fails at kAddTableInfo is never sent");
        }
    }

    @Test
    void code305IsARefusalAndAClosedConnectionIsNotCalledAWrongPassword() {
        ConnectorException e = OpenMldbRpc.refused("ChangeLeader", new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode()
                .put("code", 305).put("msg", "change leader failed"));
        assertEquals(ConnectorException.Kind.REFUSED, e.kind());
        assertTrue(e.getMessage().contains("not an alive follower"), e.getMessage());
        assertEquals(ConnectorException.Kind.TRANSIENT, OpenMldbRpc.refused("ShowTable",
                new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("code", 300)).kind());
    }

    @Test
    void aServerThatChecksNoCredentialsIsNotSaidToHaveCheckedThem() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1)) {
            cl.ns.authMode(NameServerEmulator.AuthMode.SKIP_GRANT); // 0.9.1+ default: skip_grant_tables=true
            try (ClusterConnector c = cl.open("openmldb://admin@" + cl.zkConnect() + "/openmldb", "anything at all")) {
                assertEquals(4, c.snapshot().servers().size(), "a 0.9.1+ server by default takes any password");
            }
            cl.ns.authMode(NameServerEmulator.AuthMode.CHECK);
            ConnectorException wrong = assertThrows(ConnectorException.class,
                    () -> cl.open("openmldb://admin@" + cl.zkConnect() + "/openmldb", "wrong"));
            assertTrue(wrong.getMessage().contains("either it refuses") && wrong.getMessage().contains("or it is going down"), wrong.getMessage());
            assertFalse(wrong.getMessage().contains("authentication failed"), "no claim beyond what was seen: " + wrong.getMessage());
        }
    }

    @Test
    void thePreviewSaysWhatEachKindOfStepRisksInTheEnginesWords() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(T4)), false, 0.85));
            assertNotNull(pc.plan(), pc.checks().toString());
            CheckResult leaders = pc.checks().stream().filter(x -> x.name().equals("Transfer leader risk")).findFirst()
                    .orElseThrow(() -> new AssertionError(pc.checks().toString()));
            assertEquals(Verdict.WARN, leaders.verdict());
            assertTrue(leaders.message().contains("it may cause data loss") && leaders.message().contains("highest offset"), leaders.message());
            long transfers = pc.plan().steps().stream().filter(x -> x.type() == io.tabletop.domain.StepType.TRANSFER_LEADER).count();
            assertTrue(leaders.message().startsWith(transfers + " step(s)"), leaders.message());
            assertTrue(pc.checks().stream().anyMatch(x -> x.name().equals("Move replica risk")), pc.checks().toString());
        }
    }

    @Test
    void aResumeFollowsOnlyOpsItsStepsCouldHaveSent() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            cl.ns.holdAtTask("kSendSnapshot");
            Step migrate = move("demo.t3/3", T1, T3);
            CompletableFuture<Void> first = CompletableFuture.runAsync(() -> {
                try {
                    c.execute(migrate, ClusterConnector.StepProgress.NONE);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(cl.ns.await(cl.ns::held, 20_000));
            // A run whose step in flight was a hand-over never sends a Migrate: that op is someone else's.
            ConnectorException e = assertThrows(ConnectorException.class,
                    () -> c.awaitLeftRunning(List.of(transfer("demo.t3/3", T4, T2)), ClusterConnector.StepProgress.NONE));
            assertTrue(e.getMessage().contains("kMigrateOP") && e.getMessage().contains("someone else's"), e.getMessage());
            // A run whose step in flight was that move follows it to its end.
            CountDownLatch waiting = new CountDownLatch(1);
            CompletableFuture<List<String>> following = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.awaitLeftRunning(List.of(migrate), (f, m) -> {
                        if (m.startsWith("waiting for") && m.contains("kMigrateOP")) {
                            waiting.countDown();
                        }
                    });
                } catch (Exception x) {
                    throw new IllegalStateException(x);
                }
            });
            assertTrue(waiting.await(30, TimeUnit.SECONDS), "the resume waits for the move's op");
            assertFalse(following.isDone());
            cl.ns.release();
            List<String> ended = following.get(60, TimeUnit.SECONDS);
            assertTrue(ended.stream().anyMatch(l -> l.contains("kMigrateOP") && l.contains("done")), ended.toString());
            first.get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void anOnlyReplicasNewCopyLeadsOnlyOnceItHasCaughtUp() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            NameServerEmulator ns = cl.ns;
            ns.addTable("demo", "one", 4, 1, 1000); // replica_num 1: partition 0 on T1 alone
            CountDownLatch waiting = new CountDownLatch(1);
            CompletableFuture<Void> moving = CompletableFuture.runAsync(() -> {
                try {
                    c.execute(move("demo.one/0", T1, T3), new ClusterConnector.StepProgress() {
                        @Override
                        public void update(double f, String m) {
                            if (m.equals("AddReplicaNS done")) {
                                // writes arrive while the new copy exists and it falls behind
                                ns.lag(T3, true);
                                ns.write("demo", "one", 0, 700);
                            }
                            if (m.startsWith("waiting for the new copy on " + T3)) {
                                waiting.countDown();
                            }
                        }
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(waiting.await(60, TimeUnit.SECONDS), "leadership waits for the new copy");
            assertFalse(ns.mutatingRequests().containsKey("ChangeLeader"), "no leader change while the new copy lags");
            ns.lag(T3, false);
            moving.get(2, TimeUnit.MINUTES);
            Partition p = partition(c, "demo.one/0");
            assertEquals(List.of(ServerId.of(T3)), p.servers(), ns.partition("demo", "one", 0).toString());
            assertEquals(0, ns.lostRecords(), "no write lost with the old leader's copy");
        }
    }

    @Test
    void aHalfMadeCopyOnTheDestinationIsDroppedAndMadeAgain() throws Exception {
        try (OpenMldbCluster cl = fourTablets(1); ClusterConnector c = cl.open(cl.spec(), null)) {
            cl.ns.failAtTask("kCheckBinlogSyncProgress"); // after kAddTableInfo: the new row is listed, not alive
            Step s = move("demo.t3/3", T1, T3);
            ConnectorException e = assertThrows(ConnectorException.class, () -> c.execute(s, ClusterConnector.StepProgress.NONE));
            assertTrue(e.getMessage().contains("kMigrateOP") && e.getMessage().contains("kCheckBinlogSyncProgress"), e.getMessage());
            assertEquals(ReplicaRole.STALE, partition(c, "demo.t3/3").roleOn(ServerId.of(T3)).orElseThrow(), "the half-made copy");
            c.execute(s, ClusterConnector.StepProgress.NONE); // the retry, or a resume
            Partition p = partition(c, "demo.t3/3");
            assertFalse(p.isOn(ServerId.of(T1)));
            assertEquals(ReplicaRole.FOLLOWER, p.roleOn(ServerId.of(T3)).orElseThrow());
            assertEquals(0, cl.ns.staleRows(), cl.ns.partition("demo", "t3", 3).toString());
            assertEquals(1, cl.ns.mutatingRequests().get("DelReplicaNS"), "the half-made copy dropped once");
        }
    }
}
