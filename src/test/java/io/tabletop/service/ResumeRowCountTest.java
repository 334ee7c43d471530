package io.tabletop.service;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import org.junit.jupiter.api.Test;
import io.tabletop.testing.OwnHome;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.tabletop.executor.PlanExecutionTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A resume counts rows before it goes on and compares them after, as a run does. */
class ResumeRowCountTest {
    private static final ExecutorOptions FAST = new ExecutorOptions(5, 3, Duration.ZERO);

    @RegisterExtension
    final OwnHome own = new OwnHome();

    @Test
    void aResumedRunComparesTheRowsCountedBeforeItWithTheRowsAfter() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(ServerId.of("ts-2")), sandbox.capabilities());
            // The first process runs 10 steps, then dies.
            RemovalService first = new RemovalService();
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
            Runs.Run run = first.runs().start(plan, sandbox, "sandbox", false, FAST, null, dying);
            waitFor(() -> ran.get() == 10 && run.execution().coordinatorWaiting());
            run.abandonLocks(); // the first process is gone: the OS has let go of its locks

            RemovalService second = new RemovalService();
            Operation resume = Operation.resume(second.runs().find(run.runId()));
            Operation.Prepared p = resume.prepare(second, sandbox, Operation.Options.defaults());
            assertNotNull(p.plan(), () -> p.checks().toString());
            assertNotNull(p.rows(), "rows are counted before the resume");
            assertTrue(p.checks().stream().anyMatch(c -> c.name().equals("Row counts") && c.verdict() == Verdict.PASS), p.checks().toString());
            RunResult result = resume.start(second, p, sandbox, "sandbox", FAST, null, null).done().get(30, TimeUnit.SECONDS);
            assertEquals(RunState.SUCCEEDED, result.state(), () -> result.failures().toString());

            List<CheckResult> post = second.postChecks(p.plan(), sandbox, p.rows());
            CheckResult rows = post.stream().filter(c -> c.name().equals("Row counts")).findFirst().orElseThrow(() -> new AssertionError(post));
            assertEquals(Verdict.PASS, rows.verdict(), rows.message());
            assertTrue(rows.message().startsWith("the same "), rows.message());
        } finally {
            pool.shutdownNow();
        }
    }
}
