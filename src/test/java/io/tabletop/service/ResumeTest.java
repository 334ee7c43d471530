package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.planner.Invariants;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import io.tabletop.store.RunJournal;
import io.tabletop.testing.DelegatingConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static io.tabletop.executor.PlanExecutionTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Journaled runs on the sandbox: a run abandoned halfway is resumed by a new "process" from its journal. */
class ResumeTest {
    private static final ExecutorOptions FAST = new ExecutorOptions(5, 3, Duration.ZERO);
    private static final ServerId TS2 = ServerId.of("ts-2");

    @TempDir
    Path dir;

    @Test
    void anAbandonedRunIsResumedFromItsJournalAndNoMoveHappensTwice() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Counting cluster = new Counting(sandbox);
            ClusterSnapshot before = sandbox.snapshot();
            Plan plan = new Planner().plan(before, RemoveServers.of(TS2), sandbox.capabilities());
            int onTs2 = before.loads().get(TS2).replicas();

            // The first process runs 20 steps, then dies: steps handed out after that never run.
            Runs first = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            AtomicInteger handed = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            StepDispatcher dying = (step, work) -> {
                if (handed.incrementAndGet() <= 20) {
                    pool.execute(() -> {
                        work.run();
                        ran.incrementAndGet();
                    });
                }
            };
            Runs.Run run = first.start(plan, cluster, "sandbox", false, FAST, null, dying);
            waitFor(() -> ran.get() == 20 && run.execution().coordinatorWaiting()); // nothing more is journaled
            run.abandonLocks(); // the first process is gone: the OS has let go of its locks
            int movedBefore = cluster.moves.size();
            assertTrue(movedBefore > 0 && movedBefore < onTs2, "died halfway: " + movedBefore + " of " + onTs2 + " moves done");

            // A new process finds the run interrupted, checks the journal against the cluster, and goes on.
            Runs second = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.RunInfo info = second.find(run.runId());
            assertEquals("INTERRUPTED", info.state());
            assertTrue(info.resumable());
            Runs.Resume resume = second.prepareResume(info, cluster);
            assertNotNull(resume.plan(), () -> resume.checks().toString());
            assertEquals(onTs2 - movedBefore, resume.plan().summary().replicaMoves(), "only what is left is planned");
            RunResult result = second.resume(resume, cluster, FAST, null, null).done().get(30, TimeUnit.SECONDS);

            assertEquals(RunState.SUCCEEDED, result.state(), () -> result.failures().toString());
            ClusterSnapshot after = sandbox.snapshot();
            assertEquals(List.of(), Invariants.violations(before, after, List.of(TS2)), "no partition below its RF, nothing lost");
            assertTrue(after.server(TS2).isEmpty(), "ts-2 is unregistered");
            assertEquals(onTs2, cluster.moves.size(), "every replica of ts-2 moved");
            assertTrue(cluster.moves.values().stream().allMatch(n -> n == 1), "no move done twice: " + cluster.moves);
            assertEquals(placement(resume.plan().after()), placement(after), "the cluster ends where the re-plan said");

            RunJournal.RunRecord rec = RunJournal.read(dir.resolve("runs").resolve(run.runId()));
            assertEquals(2, rec.attempts());
            assertEquals("SUCCEEDED", rec.endState());
            assertEquals("SUCCEEDED", second.find(run.runId()).state());
            assertEquals(Optional.empty(), AuditLog.verify(dir.resolve("audit.jsonl")), "the audit chain is intact");
            String audit = Files.readString(dir.resolve("audit.jsonl"));
            assertTrue(audit.contains("run resumed"));
            assertTrue(audit.contains("\"command\":\"sandbox: Move "), "each action names its command");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aDestinationThatDiesIsRoutedAroundAndTheRunGoesOn() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Counting cluster = new Counting(sandbox);
            ClusterSnapshot before = sandbox.snapshot();
            Plan plan = new Planner().plan(before, RemoveServers.of(TS2), sandbox.capabilities());
            ServerId dest = plan.steps().stream().filter(st -> st.type() == StepType.MOVE_REPLICA).skip(5).findFirst().orElseThrow().to();
            sandbox.cluster().faults().killDuringMove(dest);
            List<Plan> replans = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
            io.tabletop.executor.ExecutionListener listener = new io.tabletop.executor.ExecutionListener() {
                @Override
                public void planReplaced(Plan next, String why) {
                    replans.add(next);
                }

                @Override
                public void log(Level level, String message) {
                    if (level != Level.INFO) {
                        warnings.add(message);
                    }
                }
            };
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = runs.start(plan, cluster, "sandbox", false, FAST, listener, null);
            RunResult result = run.done().get(30, TimeUnit.SECONDS);

            assertEquals(RunState.SUCCEEDED, result.state(), () -> result.failures() + " " + warnings);
            assertEquals(1, replans.size(), "one re-plan around " + dest);
            assertTrue(warnings.stream().anyMatch(w -> w.startsWith("Re-planned: " + dest + " stopped answering")), warnings.toString());
            ClusterSnapshot after = sandbox.snapshot();
            assertTrue(after.partitions().stream().noneMatch(p -> p.isOn(dest)), "the dead server's copies were rebuilt elsewhere");
            assertTrue(after.partitions().stream().noneMatch(p -> p.isOn(TS2)), "the drain finished");
            PlanExecutionTestAccess.assertNoReplicaLost(before, after);
            for (Partition p : after.partitions()) {
                assertTrue(p.leader().map(l -> after.server(l).orElseThrow().state().isUp()).orElse(false), p.id() + " has a live leader");
            }
            assertEquals(placement(replans.get(0).after()), placement(after), "the cluster ends where the re-plan said");
            assertTrue(cluster.moveKeys.stream().distinct().count() == cluster.moveKeys.size(), "no move repeated: " + cluster.moveKeys);
            RunJournal.RunRecord rec = RunJournal.read(dir.resolve("runs").resolve(run.runId()));
            assertEquals(2, rec.attempts());
            assertEquals("SUCCEEDED", rec.endState());
        }
    }

    /** Review defect 6: a damaged step record (not a torn last line) stops a resume; it is not silently planned again. */
    @Test
    void aDamagedStepRecordStopsTheResumeWithAClearMessage() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            Runs first = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            AtomicInteger handed = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            StepDispatcher dying = (step, work) -> {
                if (handed.incrementAndGet() <= 10) {
                    pool.execute(() -> {
                        work.run();
                        ran.incrementAndGet();
                    });
                }
            };
            Runs.Run run = first.start(plan, sandbox, "sandbox", false, FAST, null, dying);
            waitFor(() -> ran.get() == 10 && run.execution().coordinatorWaiting()); // nothing more is journaled
            run.abandonLocks(); // the first process is gone: the OS has let go of its locks
            Path journal = dir.resolve("runs").resolve(run.runId()).resolve("journal.jsonl");
            List<String> lines = new java.util.ArrayList<>(Files.readAllLines(journal));
            int damaged = -1;
            for (int i = 0; i < lines.size() - 1 && damaged < 0; i++) {
                if (lines.get(i).contains("\"state\":\"RUNNING\"") && lines.get(i).contains("\"kind\":\"MOVE_REPLICA\"")) {
                    String idx = lines.get(i).replaceAll(".*\"index\":(\\d+).*", "$1");
                    boolean ended = lines.stream().anyMatch(l -> l.contains("\"index\":" + idx + ",") && !l.contains("\"state\":\"RUNNING\""));
                    if (!ended) {
                        lines.set(i, lines.get(i).replaceAll("\"partition\":\"[^\"]*\",", ""));
                        damaged = i;
                    }
                }
            }
            assertTrue(damaged >= 0, "an unfinished move is in the journal");
            Files.write(journal, lines);

            Runs second = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Resume resume = second.prepareResume(second.find(run.runId()), sandbox);
            assertNull(resume.plan(), "nothing is planned from a damaged journal");
            assertTrue(resume.checks().stream().anyMatch(c -> c.name().equals("Journal") && c.verdict() == io.tabletop.domain.Verdict.BLOCK
                    && c.message().contains("is damaged") && c.message().contains("journal.jsonl")), resume.checks().toString());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Review defect 3: a cancel that arrived while the run re-planned was lost, and the new attempt ran anyway. */
    @Test
    void aCancelDuringTheReplanEndsTheRunCancelledAndStartsNothing() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Counting cluster = new Counting(sandbox);
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            ServerId dest = plan.steps().stream().filter(st -> st.type() == StepType.MOVE_REPLICA).skip(5).findFirst().orElseThrow().to();
            sandbox.cluster().faults().killDuringMove(dest);
            java.util.concurrent.atomic.AtomicReference<Runs.Run> started = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);
            AtomicInteger movesAfterCancel = new AtomicInteger();
            java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
            io.tabletop.executor.ExecutionListener listener = new io.tabletop.executor.ExecutionListener() {
                @Override
                public void log(Level level, String message) {
                    if (message.startsWith("Re-planned: ")) {
                        try {
                            ready.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        started.get().cancel(); // the operator presses Cancel while the run re-plans
                        cancelled.set(true);
                    }
                }

                @Override
                public void stepStateChanged(Step step, io.tabletop.executor.StepState from, io.tabletop.executor.StepState to, String message) {
                    if (cancelled.get() && to == io.tabletop.executor.StepState.RUNNING) {
                        movesAfterCancel.incrementAndGet();
                    }
                }
            };
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = runs.start(plan, cluster, "sandbox", false, FAST, listener, null);
            started.set(run);
            ready.countDown();
            RunResult result = run.done().get(30, TimeUnit.SECONDS);

            assertTrue(cancelled.get(), "the run re-planned");
            assertEquals(RunState.CANCELLED, result.state());
            assertEquals(0, movesAfterCancel.get(), "no step of the new plan started");
            assertTrue(result.steps().stream().anyMatch(o -> dest.equals(o.step().to()) && o.state() == io.tabletop.executor.StepState.REPLANNED),
                    "the move to the dead server was handed to the re-plan (it failed as 'server lost', not as a message to match): " + result.steps());
            assertEquals(List.of(), result.failures());
            RunJournal.RunRecord rec = RunJournal.read(dir.resolve("runs").resolve(run.runId()));
            assertEquals("CANCELLED", rec.endState());
        }
    }

    @Test
    void aStepThatFailsThreeTimesEndsTheRunFailedAndAResumeFinishesIt() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Counting cluster = new Counting(sandbox);
            ClusterSnapshot before = sandbox.snapshot();
            Plan plan = new Planner().plan(before, RemoveServers.of(TS2), sandbox.capabilities());
            PartitionId victim = plan.steps().stream().filter(st -> st.type() == StepType.MOVE_REPLICA).findFirst().orElseThrow().partition();
            sandbox.cluster().faults().failMoves(victim, 3);
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = runs.start(plan, cluster, "sandbox", false, FAST, null, null);
            assertEquals(RunState.FAILED, run.done().get(30, TimeUnit.SECONDS).state(), "nothing died: no re-plan, the run fails");
            ClusterSnapshot mid = sandbox.snapshot();
            PlanExecutionTestAccess.assertNoReplicaLost(before, mid);
            assertTrue(mid.partition(victim).orElseThrow().isOn(TS2), "the replica that could not move stayed");

            Runs.RunInfo info = runs.find(run.runId());
            assertEquals("FAILED", info.state());
            Runs.Resume resume = runs.prepareResume(info, cluster);
            assertEquals(1, resume.plan().summary().replicaMoves(), "only the failed move is left");
            assertEquals(RunState.SUCCEEDED, runs.resume(resume, cluster, FAST, null, null).done().get(30, TimeUnit.SECONDS).state());
            ClusterSnapshot after = sandbox.snapshot();
            assertEquals(List.of(), Invariants.violations(before, after, List.of(TS2)));
            assertTrue(cluster.moves.values().stream().allMatch(n -> n == 1), "no move done twice: " + cluster.moves);
            assertEquals(before.loads().get(TS2).replicas(), cluster.moves.size());
            assertEquals(placement(resume.plan().after()), placement(after));
        }
    }

    @Test
    void aFinishedRunIsNotResumed() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = runs.start(plan, sandbox, "sandbox", false, FAST, null, null);
            assertEquals(RunState.SUCCEEDED, run.done().get(30, TimeUnit.SECONDS).state());
            Runs.RunInfo info = runs.find("latest");
            assertEquals(run.runId(), info.record().runId());
            Runs.Resume r = runs.prepareResume(info, sandbox);
            assertTrue(r.blocked());
            assertNull(r.plan());
            assertTrue(r.checks().get(0).message().contains("SUCCEEDED"), r.checks().toString());
        }
    }

    static Map<PartitionId, Set<String>> placement(ClusterSnapshot c) {
        return c.partitions().stream().collect(Collectors.toMap(Partition::id,
                p -> p.replicas().stream().map(r -> r.server() + ":" + r.role()).collect(Collectors.toSet())));
    }

    /** Counts the moves that really happened, per partition, across every run that uses it. */
    static final class Counting extends DelegatingConnector {
        final Map<PartitionId, Integer> moves = new ConcurrentHashMap<>();
        final List<String> moveKeys = new java.util.concurrent.CopyOnWriteArrayList<>();

        Counting(ClusterConnector inner) {
            super(inner);
        }

        @Override
        public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
            inner.execute(step, progress);
            if (step.type() == StepType.MOVE_REPLICA) {
                moves.merge(step.partition(), 1, Integer::sum);
                moveKeys.add(step.partition() + " " + step.from() + "→" + step.to());
            }
        }
    }
}
