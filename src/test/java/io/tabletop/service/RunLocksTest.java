package io.tabletop.service;

import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import io.tabletop.testing.DelegatingConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.tabletop.executor.PlanExecutionTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One process at a time per run, one operation at a time per cluster on this machine: the locks that
 * stand between two operators (issue 31, items 4, 5 and 8).
 */
class RunLocksTest {
    private static final ExecutorOptions FAST = new ExecutorOptions(5, 3, Duration.ZERO);
    private static final ServerId TS2 = ServerId.of("ts-2");
    private static final String PID = Long.toString(ProcessHandle.current().pid());

    @TempDir
    Path dir;

    private Runs runs() {
        return new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
    }

    /** A run that "died" after {@code steps} steps: its process is gone (its locks with it), its journal has no end. */
    private Runs.Run interrupted(Counting cluster, ExecutorService pool, int steps) throws Exception {
        Plan plan = new Planner().plan(cluster.snapshot(), RemoveServers.of(TS2), cluster.capabilities());
        AtomicInteger handed = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        StepDispatcher dying = (step, work) -> {
            if (handed.incrementAndGet() <= steps) {
                pool.execute(() -> {
                    work.run();
                    ran.incrementAndGet();
                });
            }
        };
        Runs.Run run = runs().start(plan, cluster, "sandbox", false, FAST, null, dying);
        waitFor(() -> ran.get() == steps && run.execution().coordinatorWaiting());
        run.abandonLocks();
        return run;
    }

    @Test
    void aSecondResumeOfARunBeingResumedIsRefusedNamingTheProcessAndNothingRunsTwice() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Counting cluster = new Counting(sandbox);
            Runs.Run dead = interrupted(cluster, pool, 10);
            Runs first = runs();
            Runs second = runs();
            Runs.RunInfo seenByFirst = first.find(dead.runId());
            Runs.RunInfo seenBySecond = second.find(dead.runId());
            assertEquals("INTERRUPTED", seenBySecond.state());

            Runs.Resume one = first.prepareResume(seenByFirst, cluster); // holds the run's lock from here to the run's end
            assertNotNull(one.plan(), one.checks().toString());
            Runs.Resume other = second.prepareResume(seenBySecond, cluster);

            assertNull(other.plan(), "the second resume plans nothing");
            assertEquals(1, other.checks().size(), other.checks().toString());
            CheckResult refusal = other.checks().get(0);
            assertEquals(Verdict.BLOCK, refusal.verdict());
            assertTrue(refusal.message().contains("process " + PID + " (user ") && refusal.message().contains("resumes run " + dead.runId())
                    && !refusal.message().contains("\n"), refusal.message());

            RunResult r = first.resume(one, cluster, FAST, null, null).done().get(30, TimeUnit.SECONDS);
            assertEquals(RunState.SUCCEEDED, r.state(), () -> r.failures().toString());
            assertEquals(1, cluster.count(StepType.STOP_SERVER), cluster.steps.toString());
            assertEquals(1, cluster.count(StepType.UNREGISTER_SERVER), cluster.steps.toString());
            assertEquals("SUCCEEDED", second.find(dead.runId()).state());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoResumesStartedTogetherExecuteTheRunOnce() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Counting cluster = new Counting(sandbox);
            Runs.Run dead = interrupted(cluster, pool, 10);
            CyclicBarrier together = new CyclicBarrier(2);
            List<Future<String>> both = List.of(pool.submit(() -> resumeAfter(together, dead.runId(), cluster)),
                    pool.submit(() -> resumeAfter(together, dead.runId(), cluster)));
            List<String> outcomes = new java.util.ArrayList<>();
            for (Future<String> f : both) {
                outcomes.add(f.get(60, TimeUnit.SECONDS));
            }
            assertEquals(1, outcomes.stream().filter(o -> o.equals("SUCCEEDED")).count(), outcomes.toString());
            assertEquals(1, outcomes.stream().filter(o -> o.startsWith("refused: ")).count(), outcomes.toString());
            assertEquals(1, cluster.count(StepType.STOP_SERVER), cluster.steps.toString());
            assertEquals(1, cluster.count(StepType.UNREGISTER_SERVER), cluster.steps.toString());
        } finally {
            pool.shutdownNow();
        }
    }

    /** As two `tabletop resume RUN --yes` would: each its own Runs, each found the run INTERRUPTED before either began. */
    private String resumeAfter(CyclicBarrier together, String runId, Counting cluster) throws Exception {
        Runs mine = runs();
        Runs.RunInfo info = mine.find(runId);
        together.await(10, TimeUnit.SECONDS);
        Runs.Resume r = mine.prepareResume(info, cluster);
        if (r.plan() == null) {
            return "refused: " + r.checks();
        }
        return mine.resume(r, cluster, FAST, null, null).done().get(30, TimeUnit.SECONDS).state().name();
    }

    @Test
    void aRunIsRunningWhileItsLockIsHeldWhateverItsProcessIsCalled() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Counting cluster = new Counting(sandbox);
            Runs.Run dead = interrupted(cluster, pool, 5);
            Runs looking = runs();
            assertEquals("INTERRUPTED", looking.find(dead.runId()).state(), "no process holds it");

            // another process (here: another Runs; its pid is this JVM's, which the journal records too) takes the run
            Runs holder = runs();
            holder.claim(holder.find(dead.runId()));
            assertEquals("RUNNING", looking.find(dead.runId()).state(), "its lock is held by a live process");
            holder.release(dead.runId());
            assertEquals("INTERRUPTED", looking.find(dead.runId()).state(), "the lock is let go");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSecondOperationOnOneClusterIsRefusedAtThePreCheckNamingTheFirst() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            StepDispatcher holding = (step, work) -> {
            }; // the first run's steps never end while this test looks
            Runs.Run first = runs().start(plan, sandbox, "sandbox", false, FAST, null, holding);

            Runs other = runs();
            RemovalService.PreCheck pre = new RemovalService(other).preCheck(sandbox, RemoveServers.of(ServerId.of("ts-3")));
            assertNull(pre.plan(), pre.checks().toString());
            CheckResult block = pre.checks().stream().filter(c -> c.name().equals("Other operations")).findFirst().orElseThrow();
            assertEquals(Verdict.BLOCK, block.verdict());
            assertTrue(block.message().contains("run " + first.runId()) && block.message().contains("process " + PID), block.message());
            Plan second = new Planner().plan(sandbox.snapshot(), RemoveServers.of(ServerId.of("ts-3")), sandbox.capabilities());
            Runs.LockedException refused = assertThrows(Runs.LockedException.class,
                    () -> other.start(second, sandbox, "sandbox", false, FAST, null, null), "and its start, should it race the pre-check");
            assertTrue(refused.getMessage().contains(first.runId()), refused.getMessage());

            try (SandboxConnector another = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
                assertTrue(new RemovalService(other).preCheck(another, RemoveServers.of(TS2)).checks().stream()
                        .noneMatch(c -> c.name().equals("Other operations")), "another cluster of the same name is not locked");
            }
            first.abandonLocks();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoDataDirectoriesOnOneMachineShareTheClustersLock() throws Exception {
        String before = System.getProperty(Runs.SHARED_LOCKS_PROPERTY);
        System.setProperty(Runs.SHARED_LOCKS_PROPERTY, dir.resolve("machine-locks").toString());
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            StepDispatcher holding = (step, work) -> {
            };
            Runs.Run first = new Runs(dir.resolve("dba-a").resolve("runs"), new AuditLog(dir.resolve("dba-a").resolve("audit.jsonl")))
                    .start(plan, sandbox, "sandbox", false, FAST, null, holding);
            Runs other = new Runs(dir.resolve("dba-b").resolve("runs"), new AuditLog(dir.resolve("dba-b").resolve("audit.jsonl")));
            RemovalService.PreCheck pre = new RemovalService(other).preCheck(sandbox, RemoveServers.of(ServerId.of("ts-3")));
            CheckResult block = pre.checks().stream().filter(c -> c.name().equals("Other operations")).findFirst().orElseThrow();
            assertEquals(Verdict.BLOCK, block.verdict());
            assertTrue(block.message().contains("run " + first.runId()), block.message());
            Plan second = new Planner().plan(sandbox.snapshot(), RemoveServers.of(ServerId.of("ts-3")), sandbox.capabilities());
            Runs.LockedException refused = assertThrows(Runs.LockedException.class,
                    () -> other.start(second, sandbox, "sandbox", false, FAST, null, null));
            assertTrue(refused.getMessage().contains(first.runId()), refused.getMessage());
            java.nio.file.Path machine = dir.resolve("machine-locks");
            try (var files = java.nio.file.Files.list(machine)) {
                for (java.nio.file.Path f : files.toList()) {
                    if (java.nio.file.Files.getFileStore(f).supportsFileAttributeView("posix")) {
                        assertEquals("rw-rw-rw-", java.nio.file.attribute.PosixFilePermissions.toString(
                                java.nio.file.Files.getPosixFilePermissions(f)), "another user can lock " + f);
                    }
                }
            }
            first.abandonLocks();
            assertTrue(new RemovalService(other).preCheck(sandbox, RemoveServers.of(TS2)).checks().stream()
                    .noneMatch(c -> c.name().equals("Other operations")), "free once the first lets go");
        } finally {
            if (before == null) {
                System.clearProperty(Runs.SHARED_LOCKS_PROPERTY);
            } else {
                System.setProperty(Runs.SHARED_LOCKS_PROPERTY, before);
            }
        }
    }

    /** Counts the steps the cluster is asked to execute, by kind. */
    static final class Counting extends DelegatingConnector {
        final Map<String, Integer> steps = new ConcurrentHashMap<>();

        Counting(SandboxConnector inner) {
            super(inner);
        }

        @Override
        public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
            if (step.server() != null) {
                steps.merge(step.type() + " " + step.server(), 1, Integer::sum);
            }
            super.execute(step, progress);
        }

        int count(StepType type) {
            return steps.entrySet().stream().filter(e -> e.getKey().startsWith(type + " ")).mapToInt(Map.Entry::getValue).sum();
        }
    }
}
