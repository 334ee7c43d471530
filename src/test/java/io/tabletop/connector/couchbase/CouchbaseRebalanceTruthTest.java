package io.tabletop.connector.couchbase;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.EngineProvider;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.Verdict;
import io.tabletop.emulator.NsServerEmulator;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import io.tabletop.store.RunJournal;
import io.tabletop.testing.DelegatingConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The connector at the end of and around a rebalance, against the emulator as ns_server 7.6 behaves there
 * (src/docs/couchbase.md): the node talked to leaves, a slow rebalance observer, the run's own rebalance
 * against someone else's, an old errorMessage, an unfinished failover, and a resume while the killed run's
 * rebalance still runs.
 */
class CouchbaseRebalanceTruthTest {
    private static final String PASSWORD = CouchbaseConnectorTest.PASSWORD;
    private final CouchbaseProvider provider = new CouchbaseProvider();
    private final RemovalService service = new RemovalService();

    @TempDir
    Path dir;

    private ClusterConnector open(String spec) throws ConnectorException {
        return provider.open(provider.parse(spec), new EngineProvider.OpenOptions(r -> Optional.of(PASSWORD.toCharArray()), false));
    }

    private static String specOf(NsServerEmulator emu, int... nodes) {
        StringBuilder sb = new StringBuilder("couchbase://Administrator@");
        for (int i = 0; i < nodes.length; i++) {
            sb.append(i == 0 ? "" : ",").append(emu.hosts().get(nodes[i]));
        }
        return sb.toString();
    }

    private Plan preview(ClusterConnector c, ServerId... remove) throws Exception {
        RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(remove), false, 0.85));
        assertNotNull(pc.plan(), pc.checks().toString());
        return pc.plan();
    }

    private RunResult run(Plan plan, ClusterConnector c) throws Exception {
        return service.execution(plan, c, ExecutorOptions.defaults(plan.summary().maxMovesPerServer()), ExecutionListener.NONE, null)
                .start().get(2, TimeUnit.MINUTES);
    }

    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(20); // polling a condition, not waiting out a time
        }
    }

    /** A GET on one host with the emulator's credentials: status and body. */
    private static String[] get(String host, String path) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://" + host + path)).header("Authorization", "Basic " + java.util.Base64.getEncoder()
                .encodeToString(("Administrator:" + PASSWORD).getBytes())).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        return new String[] {String.valueOf(r.statusCode()), r.body()};
    }

    @Test
    void theNodeTalkedToLeavesAnswersAsANodeOfNoClusterAndTheConnectorGoesOnThroughAMemberThatStays() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(128); ClusterConnector c = open(specOf(emu, 3))) {
            assertEquals(emu.hosts(), c.learnedMembers(), "every member's REST address, learned from /pools/default");
            ServerId node4 = ServerId.of(emu.otpNode(3));
            String host4 = emu.hosts().get(3);
            Plan plan = preview(c, node4);
            RunResult r = run(plan, c);
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertEquals(List.of(host4), emu.departedHosts(), "node 4 left the cluster");
            // a node of no cluster (ns_config_default.erl:188-190, menelaus_web_pools.erl:73-95, menelaus_web.erl:1331-1346)
            String[] pools = get(host4, "/pools");
            assertEquals("200", pools[0]);
            assertTrue(pools[1].contains("\"uuid\":[]") && pools[1].contains("\"pools\":[]"), pools[1]);
            assertEquals("404", get(host4, "/pools/default")[0]);
            assertTrue(get(host4, "/pools/default")[1].contains("unknown pool"));
            assertEquals("[]", get(host4, "/pools/default/buckets")[1]);
            assertFalse(get(host4, "/pools/default/tasks")[1].contains("statusId"));
            assertEquals("404", get(host4, "/pools/default/buckets?uuid=" + emu.uuid())[0]);
            assertTrue(c.talkingTo().isPresent() && !emu.departedHosts().contains(c.talkingTo().get()),
                    "the connector talks through a member that stays: " + c.talkingTo());
            List<CheckResult> post = service.postChecks(plan, c, null);
            assertTrue(post.stream().noneMatch(x -> x.verdict() == Verdict.BLOCK), post.toString());
            assertEquals(3, c.snapshot().servers().size());
            // a new connection through the departed node first, then a member remembered
            try (ClusterConnector again = open(specOf(emu, 0).replace(emu.hosts().get(0), host4 + "," + emu.hosts().get(0)))) {
                assertEquals(3, again.snapshot().servers().size(), "the departed node is skipped: its /pools has no uuid");
            }
            // alone, it says so in one line
            ConnectorException e = org.junit.jupiter.api.Assertions.assertThrows(ConnectorException.class,
                    () -> open("couchbase://Administrator@" + host4));
            assertTrue(e.getMessage().contains("not part of a cluster"), e.getMessage());
        }
    }

    @Test
    void aHostThatLeftIsNeverReadAgainEvenThoughItWasUsedBefore() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(128); ClusterConnector c = open(specOf(emu, 3, 0))) {
            ClusterConnector other = open(specOf(emu, 0));
            RunResult r = run(preview(other, ServerId.of(emu.otpNode(3))), other); // someone else removes the node c talks through
            other.close();
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertEquals(3, c.snapshot().servers().size(), "not the departed node's empty answers");
            assertFalse(emu.departedHosts().contains(c.talkingTo().orElseThrow()));
        }
    }

    @Test
    void theTypedNodeSpelledOtherwiseThanItsHostnameIsMovedOffBeforeThePost() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(128)) {
            String host4 = emu.hosts().get(3); // 127.0.1.4:PORT as ns_server names it; typed 127.0.1.004:PORT, the same loopback address
            String typed = host4.replace("127.0.1.4:", "127.0.1.004:");
            try (ClusterConnector c = open("couchbase://Administrator@" + typed)) {
                ServerId node4 = ServerId.of(emu.otpNode(3));
                RunResult r = run(preview(c, node4), c);
                assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
                assertTrue(!emu.rebalancePostedVia().equals(node4.value()), "posted through a node that stays, not " + emu.rebalancePostedVia());
                assertEquals(3, c.snapshot().servers().size());
            }
        }
    }

    @Test
    void aRebalancePostWhoseAnswerIsLostIsNotSentAgainAndTheRunFollowsWhatItStarted() throws Exception {
        assertTrue(CouchbaseRest.TASKS_READ_TIMEOUT_MILLIS > CouchbaseRest.TASKS_WAIT_MILLIS + 2 * 10_000,
                "the tasks call may take its wait plus two observer calls of 10 s (ns_doctor.erl:832-837)");
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(16); ClusterConnector c = open(specOf(emu, 0, 1))) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            Plan plan = preview(c, node4);
            emu.loseNextRebalanceAnswer();
            RunResult r = run(plan, c);
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertEquals(1, emu.rebalancePosts(), "the POST was not sent again to another node");
            assertFalse(emu.members().contains(node4.value()));
        }
    }

    @Test
    void aRunningTaskWithoutTheObserversInfoIsUnknownNotSomeoneElses() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(4); ClusterConnector c = open(specOf(emu, 0))) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            var done = service.execution(preview(c, node4), c, ExecutorOptions.defaults(4), ExecutionListener.NONE, null).start();
            waitFor(emu::rebalanceRunning, "the rebalance to run");
            try (ClusterConnector second = open(specOf(emu, 1))) {
                emu.observerInfoMissing(6); // no rebalanceId, nodesInfo, stageInfo for six answers (ns_doctor.erl:833-837)
                ClusterConnector.EngineWork w = second.engineWork().orElseThrow();
                assertEquals(emu.rebalanceId(), w.id(), "the rebalance's own id once the observer answers, not the status id");
                assertEquals(List.of(node4), w.removing());
                // the same step run by a second process follows it (its nodes), posts nothing
                emu.observerInfoMissing(6);
                second.execute(Step.engineRebalance(0, List.of(node4), 0, ""), (f, m) -> { });
                assertEquals(1, emu.rebalancePosts());
            }
            assertEquals(RunState.SUCCEEDED, done.get(2, TimeUnit.MINUTES).state());
        }
    }

    @Test
    void failedOverNodesLeaveWhenTheRebalanceStartsAndTheRunsOwnRebalanceIsStillRecognised() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(4); ClusterConnector c = open(specOf(emu, 0))) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            c.execute(Step.failover(0, List.of(node4), ""), (f, m) -> { });
            var done = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    c.execute(Step.engineRebalance(1, List.of(node4), 0, ""), (f, m) -> { });
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            waitFor(emu::rebalanceRunning, "the rebalance to run");
            assertFalse(emu.members().contains(node4.value()), "the failed-over node left at the start (ns_rebalancer.erl:505-508)");
            try (ClusterConnector second = open(specOf(emu, 1))) {
                second.execute(Step.engineRebalance(1, List.of(node4), 0, ""), (f, m) -> { }); // a process without the id: follows, not refused
            }
            done.get(2, TimeUnit.MINUTES);
            assertEquals(1, emu.rebalancePosts());
        }
    }

    @Test
    void aNotRunningTaskIsNotTheEndWhilePoolsDefaultSaysRunning() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(4); ClusterConnector c = open(specOf(emu, 0))) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
            var done = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    c.execute(Step.engineRebalance(0, List.of(node4), 0, ""), new ClusterConnector.StepProgress() {
                        @Override
                        public void update(double fraction, String message) {
                        }

                        @Override
                        public void log(String line) {
                            log.add(line);
                        }
                    });
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            waitFor(() -> emu.movesDone() > 8, "the rebalance to be under way");
            emu.observerNotRunning(6); // ns_rebalance_observer.erl:102-115: not_running, not stale
            done.get(2, TimeUnit.MINUTES);
            assertTrue(log.stream().anyMatch(l -> l.contains("says notRunning while /pools/default says a rebalance is running")), log.toString());
            assertFalse(emu.members().contains(node4.value()));
        }
    }

    @Test
    void recoveryModeRefusesTheFailoverInOneLineWithoutRetrying() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(64); ClusterConnector c = open(specOf(emu, 0))) {
            emu.recoveryMode();
            ConnectorException e = org.junit.jupiter.api.Assertions.assertThrows(ConnectorException.class,
                    () -> c.execute(Step.failover(0, List.of(ServerId.of(emu.otpNode(3))), ""), (f, m) -> { }));
            assertTrue(e.getMessage().contains("Cluster is in recovery mode.") && !e.isTransient(), e.getMessage());
        }
    }

    @Test
    void aWrongPasswordOnEveryMemberIsACredentialErrorAndOneMemberLeftIsNot() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(64)) {
            ConnectorException e = org.junit.jupiter.api.Assertions.assertThrows(ConnectorException.class, () -> provider.open(
                    provider.parse(specOf(emu, 0, 1)), new EngineProvider.OpenOptions(r -> Optional.of("wrong".toCharArray()), false)));
            assertTrue(e.getMessage().contains("wrong user name or password"), e.getMessage());
        }
    }

    @Test
    void aStaleTaskStatusDuringTheRebalanceIsPolledAgainAndTheRunFollowsToTheEnd() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(4); ClusterConnector c = open(specOf(emu, 0))) {
            String node4 = emu.otpNode(3);
            Plan plan = preview(c, ServerId.of(node4));
            var exec = service.execution(plan, c, ExecutorOptions.defaults(plan.summary().maxMovesPerServer()), ExecutionListener.NONE, null);
            var done = exec.start();
            waitFor(emu::rebalanceRunning, "the rebalance to run");
            emu.slowObserver(8); // eight tasks answers in a row say notRunning, statusIsStale, masterRequestTimedOut
            RunResult r = done.get(2, TimeUnit.MINUTES);
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertEquals(1, emu.rebalancePosts(), "one rebalance posted");
            assertFalse(emu.members().contains(node4) || emu.rebalanceRunning(), "the run ended when the rebalance did");
            assertTrue(emu.lastTasksTimeout() >= 1000 && emu.lastTasksTimeout() < CouchbaseRest.READ_TIMEOUT_MILLIS,
                    "the server-side wait (" + emu.lastTasksTimeout() + " ms) is shorter than the read timeout");
        }
    }

    @Test
    void anOldErrorMessageIsNotTheRunsAndA200ThatStartedNothingIsSaidAsSuch() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(64); ClusterConnector c = open(specOf(emu, 0))) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            emu.failAfterMoves(100);
            RunResult failed = run(preview(c, node4), c);
            assertEquals(RunState.FAILED, failed.state());
            assertTrue(failed.failures().get(0).message().contains("Rebalance failed"), failed.failures().toString());

            // another client's rebalance starts just before this run's POST: 200, nothing started by the run
            emu.otherClientRebalance(true, 2);
            RunResult raced = run(preview(c, node4), c);
            String message = raced.failures().get(0).message();
            assertEquals(RunState.FAILED, raced.state());
            assertTrue(message.contains("started no rebalance") && message.contains("already running"), message);
            assertFalse(message.contains("Rebalance failed"), "the old failure is not reported as this run's: " + message);
        }
    }

    @Test
    void anOldErrorMessageBeforeTheRunDoesNotFailTheRunThatSucceeds() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(64); ClusterConnector c = open(specOf(emu, 0))) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            emu.failAfterMoves(100);
            assertEquals(RunState.FAILED, run(preview(c, node4), c).state());
            RunResult r = run(preview(c, node4), c);
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertFalse(emu.members().contains(node4.value()));
        }
    }

    @Test
    void anUnfinishedFailoverIs200WithAnErrorMessageAndRefusesInOneLine() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(64); ClusterConnector c = open(specOf(emu, 0))) {
            Plan plan = preview(c, ServerId.of(emu.otpNode(3)));
            emu.unfinishedFailover(1);
            RunResult r = run(plan, c);
            assertEquals(RunState.FAILED, r.state());
            String message = r.failures().get(0).message();
            assertTrue(message.contains("Unfinished failover of nodes") && message.contains("started no rebalance"), message);
            assertFalse(message.contains("\n"), message);
            assertEquals(1, emu.rebalancePosts(), "a refusal is not retried");
        }
    }

    @Test
    void aRunKilledMidRebalanceIsResumedAtOnceAndFollowsItsOwnRebalanceToTheEnd() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(2)) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            CountDownLatch killed = new CountDownLatch(1);
            Runs.Run first;
            try (ClusterConnector c1 = open(specOf(emu, 3, 0))) {
                // the first process stops doing anything once the rebalance runs: it is "killed"
                ClusterConnector dying = new DelegatingConnector(c1) {
                    @Override
                    public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
                        inner.execute(step, new StepProgress() {
                            @Override
                            public void update(double fraction, String message) {
                                if (fraction > 0.05) {
                                    awaitUninterruptibly(killed);
                                }
                            }

                            @Override
                            public void action(String what, String command) {
                                progress.action(what, command);
                            }
                        });
                    }
                };
                Plan plan = preview(c1, node4);
                Runs runs1 = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
                first = runs1.start(plan, dying, specOf(emu, 3, 0), false, ExecutorOptions.defaults(plan.summary().maxMovesPerServer()),
                        null, null);
                waitFor(() -> emu.movesDone() > 60, "the rebalance to be under way");
                assertTrue(emu.rebalanceRunning());
                first.abandonLocks(); // the first process is gone: the OS has let go of its locks

                Runs runs2 = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
                Runs.RunInfo info = runs2.find(first.runId());
                assertEquals("INTERRUPTED", info.state());
                try (ClusterConnector c2 = open(specOf(emu, 3, 0))) {
                    Runs.Resume resume = runs2.prepareResume(info, c2);
                    assertNotNull(resume.plan(), resume.checks().toString());
                    assertTrue(resume.checks().stream().anyMatch(x -> x.name().equals("Engine work") && x.verdict() == Verdict.PASS
                            && x.message().contains("the run's own")), resume.checks().toString());
                    RunResult r = runs2.resume(resume, c2, ExecutorOptions.defaults(resume.plan().summary().maxMovesPerServer()), null, null)
                            .done().get(2, TimeUnit.MINUTES);
                    assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
                    assertEquals(1, emu.rebalancePosts(), "nothing posted twice");
                    assertFalse(emu.members().contains(node4.value()));
                    assertTrue(service.postChecks(resume.plan(), c2, null).stream().noneMatch(x -> x.verdict() == Verdict.BLOCK));
                    RunJournal.RunRecord rec = RunJournal.read(dir.resolve("runs").resolve(first.runId()));
                    assertEquals("SUCCEEDED", rec.endState());
                    assertTrue(Files.readString(dir.resolve("audit.jsonl")).contains("run resumed"));
                }
            }
            // the "killed" process's thread stays parked on the latch: it never acts again
        }
    }

    @Test
    void someoneElsesRebalanceIsRefusedByResumeInOneLine() throws Exception {
        try (NsServerEmulator emu = CouchbaseConnectorTest.seed001(1); ClusterConnector c = open(specOf(emu, 0))) {
            ServerId node4 = ServerId.of(emu.otpNode(3));
            Plan plan = preview(c, node4);
            // the first process dies before its rebalance step runs
            Runs runs1 = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run first = runs1.start(plan, c, specOf(emu, 0), false, ExecutorOptions.defaults(plan.summary().maxMovesPerServer()),
                    null, (step, work) -> {
                    });
            first.abandonLocks(); // the first process is gone: the OS has let go of its locks
            emu.otherClientRebalance(false, 2);
            Runs runs2 = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Resume resume = runs2.prepareResume(runs2.find(first.runId()), c);
            assertNull(resume.plan());
            assertEquals(1, resume.checks().size(), resume.checks().toString());
            CheckResult only = resume.checks().get(0);
            assertEquals(Verdict.BLOCK, only.verdict());
            assertTrue(only.message().startsWith("someone else's rebalance") && only.message().contains(emu.otpNode(2)), only.message());
            assertEquals(0, emu.rebalancePosts(), "nothing posted");
        }
    }

    @Test
    void thePreviewSaysThatAddedNodesAndOtherServicesAreRebalancedToo() throws Exception {
        NsServerEmulator.Builder b = NsServerEmulator.builder().credentials("Administrator", PASSWORD);
        b.dataNode(1).dataNode(2).dataNode(3).node(4, List.of("kv", "index"), null);
        try (NsServerEmulator emu = b.bucket("travel-sample", 1, 64, 1_000).start(); ClusterConnector c = open(specOf(emu, 0))) {
            RemovalService.PreCheck plain = service.preCheck(c, new RemoveServers(List.of(ServerId.of(emu.otpNode(2))), false, 0.85));
            CheckResult before = plain.checks().stream().filter(x -> x.name().equals("Rebalance also")).findFirst().orElseThrow();
            assertTrue(before.verdict() == Verdict.WARN && before.message().contains("index service(s) move too")
                    && !before.message().contains("rebalanced in"), before.message());
            emu.addNode(5);
            RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(ServerId.of(emu.otpNode(2))), false, 0.85));
            CheckResult also = pc.checks().stream().filter(x -> x.name().equals("Rebalance also")).findFirst().orElseThrow();
            assertTrue(also.message().contains("ns_1@127.0.1.5 (added) will be rebalanced in by the same rebalance"), also.message());
            assertTrue(also.message().contains("the estimate covers the vBucket moves only"), also.message());
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        while (true) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                // a killed process does nothing more
            }
        }
    }
}
