package io.tabletop.service;

import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import io.tabletop.store.RunJournal;
import io.tabletop.testing.DelegatingConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Runs.Run#interrupted}: what the command line's Ctrl-C hook asks of a run. Nothing new starts, the
 * engine settings the run changed go back within the bound (journaled, once), and the operator gets one line:
 * that they are back, or the command that puts them back.
 */
class InterruptedRunTest {
    private static final ExecutorOptions FAST = new ExecutorOptions(5, 1, Duration.ZERO);
    private static final Map<String, String> OFF_FOR_THE_RUN = Map.of("auto_failover", "true");

    @TempDir
    Path dir;

    /** The sandbox with an engine setting changed for the run, whose moves wait until released. */
    private static final class Engine extends DelegatingConnector {
        final CountDownLatch movesGo = new CountDownLatch(1);
        final CountDownLatch aMoveRuns = new CountDownLatch(1);
        final AtomicInteger restores = new AtomicInteger();
        volatile String refuse;
        volatile CountDownLatch restoreHangs;

        Engine(SandboxConnector inner) {
            super(inner);
        }

        @Override
        public Map<String, String> prepareRun() {
            return OFF_FOR_THE_RUN;
        }

        @Override
        public void restoreAfterRun(Map<String, String> settings) throws ConnectorException {
            restores.incrementAndGet();
            assertEquals(OFF_FOR_THE_RUN, settings);
            if (refuse != null) {
                throw new ConnectorException(engine(), "set auto_failover", refuse);
            }
            CountDownLatch hang = restoreHangs;
            if (hang != null) {
                try {
                    hang.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
            if (step.type() == StepType.MOVE_REPLICA) {
                aMoveRuns.countDown();
                assertTrue(movesGo.await(30, TimeUnit.SECONDS), "released");
            }
            inner.execute(step, progress);
        }
    }

    private Runs.Run startAndWaitForAMove(Runs runs, Engine engine) throws Exception {
        Plan plan = new Planner().plan(engine.snapshot(), RemoveServers.of(ServerId.of("ts-2")), engine.capabilities());
        Runs.Run run = runs.start(plan, engine, "sandbox", false, FAST, ExecutionListener.NONE, null);
        assertTrue(engine.aMoveRuns.await(30, TimeUnit.SECONDS), "a move runs");
        assertEquals(OFF_FOR_THE_RUN, RunJournal.unrestoredSettings(run.journal().dir()));
        return run;
    }

    /** Cancels what is left so that the run ends, and returns once it has. */
    private static void end(Runs.Run run, Engine engine) throws Exception {
        engine.movesGo.countDown();
        run.cancel();
        assertEquals(RunState.CANCELLED, run.done().get(30, TimeUnit.SECONDS).state());
    }

    @Test
    void anInterruptedRunStartsNothingNewAndPutsTheSettingsBackOnce() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Engine engine = new Engine(sandbox);
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = startAndWaitForAMove(runs, engine);

            String line = run.interrupted(Duration.ofSeconds(5));

            assertEquals("Interrupted: the engine's settings are put back (auto_failover=true); the run stops here, continue it with: "
                    + "tabletop resume " + run.runId() + " --yes", line);
            assertEquals(1, engine.restores.get());
            assertEquals(RunState.PAUSED, run.execution().state(), "nothing new starts");
            Path runDir = run.journal().dir();
            assertEquals(Map.of(), RunJournal.unrestoredSettings(runDir), "journaled: a resume does not put them back again");
            assertTrue(RunJournal.read(runDir).events().stream().anyMatch(e -> e.startsWith("interrupted: ")));
            assertTrue(java.nio.file.Files.readString(dir.resolve("audit.jsonl")).contains("engine settings put back"), "audited");
            assertFalse(run.done().isDone(), "not ended: the process would be gone now, and the run resumable");
            end(run, engine);
            assertEquals(1, engine.restores.get(), "the run's own end does not put them back a second time");
        }
    }

    @Test
    void aRefusedRestoreSaysInOneLineWhichCommandPutsItBack() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Engine engine = new Engine(sandbox);
            engine.refuse = "nameserver unreachable";
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = startAndWaitForAMove(runs, engine);

            String line = run.interrupted(Duration.ofSeconds(5));

            assertEquals("Interrupted: could not put back auto_failover=true (sandbox: set auto_failover failed: nameserver unreachable); "
                    + "put it back with: tabletop resume " + run.runId() + " --yes (it puts them back when it ends)", line);
            assertEquals(OFF_FOR_THE_RUN, RunJournal.unrestoredSettings(run.journal().dir()), "still owed, as the journal says");
            engine.refuse = null;
            end(run, engine);
            assertEquals(2, engine.restores.get(), "the run's end tries again");
            assertEquals(Map.of(), RunJournal.unrestoredSettings(run.journal().dir()));
        }
    }

    @Test
    void aRestoreThatGetsNoAnswerIsGivenUpAfterTheBound() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Engine engine = new Engine(sandbox);
            CountDownLatch hang = new CountDownLatch(1);
            engine.restoreHangs = hang;
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = startAndWaitForAMove(runs, engine);
            try {
                long t0 = System.nanoTime();
                String line = run.interrupted(Duration.ofSeconds(1));
                double took = (System.nanoTime() - t0) / 1e9;
                assertTrue(took < 5, "bounded: " + took + " s");
                assertEquals("Interrupted: could not put back auto_failover=true (no answer within 1 s); put it back with: tabletop resume "
                        + run.runId() + " --yes (it puts them back when it ends)", line);
            } finally {
                hang.countDown();
            }
            engine.restoreHangs = null;
            end(run, engine);
        }
    }
}
