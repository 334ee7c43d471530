package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.PlanExecutionTest;
import io.tabletop.executor.Prelude;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import io.tabletop.store.RunJournal;
import io.tabletop.testing.DelegatingConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The time before the first move: one snapshot and one health verdict serve the pre-check, the plan, the
 * first health gate and the first drift check when they are seconds apart; a stale or unhealthy verdict
 * never does. The run reports its timeline from the launch.
 */
class RunStartTest {
    private static final ExecutorOptions FAST = new ExecutorOptions(5, 3, Duration.ZERO);
    private static final ServerId TS2 = ServerId.of("ts-2");

    @TempDir
    Path dir;

    @Test
    void aFreshPreCheckServesTheFirstGateAndDriftCheckSoNothingIsReadTwice() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Reads c = new Reads(sandbox);
            Instant launched = Instant.now();
            Instant readAt = Instant.now();
            ClusterSnapshot s = c.snapshot();
            RemovalService service = new RemovalService();
            RemovalService.PreCheck pre = service.preCheck(c, s, readAt, RemoveServers.of(TS2));
            assertNotNull(pre.plan(), pre.checks()::toString);
            assertEquals(1, c.snapshots.get(), "the pre-check plans on the snapshot it was given");
            assertEquals(1, c.healths.get(), "one health verdict");
            assertEquals(1, c.counts.get(), "rows counted once");
            assertEquals(Verdict.PASS, pre.checks().get(0).verdict());
            assertEquals("Row counts", pre.checks().get(1).name(), "the row count keeps its place after health");

            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            int[] readsAtFirstStep = {-1, -1};
            ExecutionListener l = new ExecutionListener() {
                @Override
                public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                    if (step.index() == 1 && to == StepState.RUNNING) {
                        readsAtFirstStep[0] = c.snapshots.get();
                        readsAtFirstStep[1] = c.healths.get();
                    }
                }
            };
            Runs.Run run = runs.start(pre.plan(), c, "sandbox", false, FAST.withPrelude(pre.prelude(launched)), l, null);
            RunResult r = run.done().get(30, TimeUnit.SECONDS);
            assertEquals(RunState.SUCCEEDED, r.state(), () -> r.failures().toString());

            Step gate = pre.plan().steps().get(0);
            assertEquals(StepType.HEALTH_GATE, gate.type());
            RunResult.StepOutcome first = r.steps().get(0);
            assertEquals(StepState.SUCCEEDED, first.state());
            assertTrue(first.message().startsWith("answered by the pre-check's verdict of "), first.message());
            assertEquals(1, readsAtFirstStep[0], "no snapshot between the pre-check and the second step (no drift read)");
            assertEquals(1, readsAtFirstStep[1], "no health read between the pre-check and the second step");
            long gates = pre.plan().steps().stream().filter(st -> st.type() == StepType.HEALTH_GATE).count();
            assertEquals(gates - 1, c.gatesRun.get(), "every gate but the first asked the cluster");

            RunResult.Timeline t = r.timeline();
            assertTrue(t.firstStep() >= 0 && t.firstStep() <= t.firstMove() && t.firstMove() <= t.lastMoveEnd() && t.lastMoveEnd() <= t.end(),
                    t::toString);
            String audit = Files.readString(dir.resolve("audit.jsonl"));
            assertTrue(audit.contains("step ran nothing: answered by the pre-check"), "the audit says the gate ran nothing");
            assertEquals(Optional.empty(), AuditLog.verify(dir.resolve("audit.jsonl")));
            RunJournal.RunRecord rec = RunJournal.read(dir.resolve("runs").resolve(run.runId()));
            assertEquals("SUCCEEDED", rec.endState());
            assertTrue(Files.readString(rec.dir().resolve("journal.jsonl")).contains("first step "), "the journal keeps the timeline");
        }
    }

    @Test
    void aStaleOrUnhealthyVerdictNeverServesTheGate() throws Exception {
        for (Prelude prelude : List.of(
                new Prelude(Instant.now(), Instant.now().minus(Prelude.FRESH).minusSeconds(1),
                        new HealthReport(Verdict.PASS, "HEALTHY", List.of())),
                new Prelude(Instant.now(), Instant.now(), new HealthReport(Verdict.WARN, "1 tablet under-replicated", List.of())))) {
            try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
                Reads c = new Reads(sandbox);
                RemovalService.PreCheck pre = new RemovalService().preCheck(c, RemoveServers.of(TS2));
                int snapshots = c.snapshots.get();
                Runs runs = new Runs(dir.resolve("runs-" + prelude.health().verdict()), new AuditLog(dir.resolve("audit-" + prelude.health().verdict() + ".jsonl")));
                RunResult r = runs.start(pre.plan(), c, "sandbox", false, FAST.withPrelude(prelude), null, null).done().get(30, TimeUnit.SECONDS);
                assertEquals(RunState.SUCCEEDED, r.state());
                assertFalse(r.steps().get(0).message().contains("pre-check"), prelude + ": " + r.steps().get(0).message());
                long gates = pre.plan().steps().stream().filter(st -> st.type() == StepType.HEALTH_GATE).count();
                assertEquals(gates, c.gatesRun.get(), prelude + ": every gate asked the cluster");
                assertTrue(c.snapshots.get() > snapshots, "the first phase's drift check read the cluster");
            }
        }
    }

    @Test
    void noReplicaMovesBeforeTheRowsAreCountedWhileOtherStepsGoOn() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Reads c = new Reads(sandbox);
            CompletableFuture<Map<String, Long>> counting = new CompletableFuture<>();
            Instant readAt = Instant.now();
            RemovalService.PreCheck pre = new RemovalService().preCheck(c, c.snapshot(), readAt, RemoveServers.of(TS2), counting, false);
            assertTrue(pre.checks().stream().noneMatch(k -> k.name().equals("Row counts")), "the count is not waited for");
            List<StepType> started = new CopyOnWriteArrayList<>();
            ExecutionListener l = new ExecutionListener() {
                @Override
                public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                    if (to == StepState.RUNNING) {
                        started.add(step.type());
                    }
                }
            };
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = runs.start(pre.plan(), c, "sandbox", false, FAST.withPrelude(pre.prelude(Instant.now())), l, null);
            long transfers = pre.plan().steps().stream().filter(st -> st.type() == StepType.TRANSFER_LEADER
                    && st.phase() == pre.plan().steps().stream().filter(m -> m.type() == StepType.MOVE_REPLICA).findFirst().orElseThrow().phase()).count();
            assertTrue(transfers > 0, "the drain phase hands leaders over");
            PlanExecutionTest.waitFor(() -> started.stream().filter(t -> t == StepType.TRANSFER_LEADER).count() == transfers
                    && run.execution().coordinatorWaiting());
            assertFalse(started.contains(StepType.MOVE_REPLICA), "no move while the rows are counted: " + started);
            assertEquals(RunState.RUNNING, run.execution().state());

            counting.complete(sandbox.rowCounts().orElseThrow());
            RunResult r = run.done().get(30, TimeUnit.SECONDS);
            assertEquals(RunState.SUCCEEDED, r.state(), () -> r.failures().toString());
            assertEquals(sandbox.rowCounts().orElseThrow(), pre.rowsBefore());
            assertEquals(Verdict.PASS, RemovalService.rowCheck(counting).orElseThrow().verdict());
        }
    }

    @Test
    void aRunCancelledWhileItsMovesWaitForTheCountCancelsThem() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            CompletableFuture<Map<String, Long>> counting = new CompletableFuture<>();
            RemovalService.PreCheck pre = new RemovalService().preCheck(sandbox, sandbox.snapshot(), Instant.now(), RemoveServers.of(TS2), counting, false);
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = runs.start(pre.plan(), sandbox, "sandbox", false, FAST.withPrelude(pre.prelude(Instant.now())), null, null);
            PlanExecutionTest.waitFor(() -> run.execution().coordinatorWaiting());
            run.execution().cancel();
            RunResult r = run.done().get(30, TimeUnit.SECONDS);
            assertEquals(RunState.CANCELLED, r.state());
            assertTrue(r.steps().stream().noneMatch(o -> o.step().type() == StepType.MOVE_REPLICA && o.state() != StepState.CANCELLED),
                    "every move was cancelled before it started");
            assertEquals(0, sandbox.cluster().movesInFlight());
            counting.completeExceptionally(new ConnectorException(Engine.SANDBOX, "count rows", "the cluster went away"));
            assertEquals(Verdict.WARN, RemovalService.rowCheck(counting).orElseThrow().verdict(), "a failed count is a warning, named");
            assertTrue(RemovalService.rowCheck(counting).orElseThrow().message().contains("the cluster went away"));
        }
    }

    /** Counts what is read from the cluster, and which gates asked it. */
    static final class Reads extends DelegatingConnector {
        final AtomicInteger snapshots = new AtomicInteger();
        final AtomicInteger healths = new AtomicInteger();
        final AtomicInteger counts = new AtomicInteger();
        final AtomicInteger gatesRun = new AtomicInteger();

        Reads(ClusterConnector inner) {
            super(inner);
        }

        @Override
        public ClusterSnapshot snapshot() throws ConnectorException {
            snapshots.incrementAndGet();
            return inner.snapshot();
        }

        @Override
        public HealthReport health() throws ConnectorException {
            healths.incrementAndGet();
            return inner.health();
        }

        @Override
        public Optional<Map<String, Long>> rowCounts() throws ConnectorException {
            counts.incrementAndGet();
            return inner.rowCounts();
        }

        @Override
        public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
            if (step.type() == StepType.HEALTH_GATE) {
                gatesRun.incrementAndGet();
            }
            inner.execute(step, progress);
        }
    }
}
