package io.tabletop.ui;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ServerId;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.Operation;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import org.junit.jupiter.api.Test;
import io.tabletop.testing.OwnHome;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static io.tabletop.executor.PlanExecutionTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A resume prepared in the console holds the run's lock while its tab is open, and lets go of it when the
 * operator closes the tab without running it: another process can then resume the run.
 */
class ResumePreviewLocksTest {
    private static final ExecutorOptions FAST = new ExecutorOptions(5, 3, Duration.ZERO);

    @RegisterExtension
    final OwnHome own = new OwnHome();

    @Test
    void aResumePreviewLetsGoOfTheRunsLockWhenItsTabCloses() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(ServerId.of("ts-2")), sandbox.capabilities());
            AtomicInteger handed = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            StepDispatcher dying = (step, work) -> { // the first process runs 10 steps, then dies
                if (handed.incrementAndGet() <= 10) {
                    pool.execute(() -> {
                        work.run();
                        ran.incrementAndGet();
                    });
                }
            };
            Runs.Run run = new RemovalService().runs().start(plan, sandbox, "sandbox", false, FAST, null, dying);
            waitFor(() -> ran.get() == 10 && run.execution().coordinatorWaiting());
            run.abandonLocks(); // the first process is gone: the OS has let go of its locks

            RemovalService console = new RemovalService();
            OperationViewModel vm = new OperationViewModel(sandbox, "sandbox", console, new TaskRunner.Immediate(),
                    Operation.resume(console.runs().find(run.runId())));
            vm.check();
            assertNotNull(vm.planProperty().get(), vm.checks().toString());
            Runs other = new Runs();
            Runs.RunInfo info = other.find(run.runId());
            assertEquals("RUNNING", info.state(), "the console's preview holds the run");
            assertThrows(Runs.LockedException.class, () -> other.claim(info));

            vm.discard(); // the operator closes the tab
            assertEquals("INTERRUPTED", other.find(run.runId()).state());
            other.claim(other.find(run.runId())); // another process can take it now
            other.release(run.runId());
        } finally {
            pool.shutdownNow();
        }
    }
}
