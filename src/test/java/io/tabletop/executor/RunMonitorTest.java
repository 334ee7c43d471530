package io.tabletop.executor;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static io.tabletop.executor.PlanExecutionTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run's monitor on a virtual clock: stalled steps are flagged, and lost availability pauses the run. */
class RunMonitorTest {
    private static final ServerId TS2 = ServerId.of("ts-2");

    /** A clock the test moves by hand. */
    static final class TestClock implements InstantSource {
        final AtomicLong millis = new AtomicLong(1_700_000_000_000L);

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }

        void advance(Duration d) {
            millis.addAndGet(d.toMillis());
        }
    }

    /** Collects log lines: INFO into {@code infos}, the rest into {@code warnings}. */
    static ExecutionListener collecting(List<String> warnings, List<String> infos) {
        return new ExecutionListener() {
            @Override
            public void log(Level level, String message) {
                (level == Level.INFO ? infos : warnings).add(message);
            }
        };
    }

    @Test
    void aStepWhoseProgressStopsIsFlaggedOnceAndClearedWhenItMoves() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.manual(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            TestClock clock = new TestClock();
            ExecutorOptions options = new ExecutorOptions(1, 3, Duration.ZERO)
                    .withMonitor(Duration.ofMinutes(10), Duration.ofDays(1), Duration.ofMillis(5), clock);
            List<String> warnings = new CopyOnWriteArrayList<>();
            List<String> infos = new CopyOnWriteArrayList<>();
            PlanExecution run = new PlanExecution(plan, sandbox, options, collecting(warnings, infos));
            Step move = plan.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).findFirst().orElseThrow();
            run.start();
            waitFor(() -> {
                sandbox.cluster().clock().runNext();
                return run.stateOf(move.index()) == StepState.RUNNING;
            });
            clock.advance(Duration.ofMinutes(9));
            long seen = run.monitorLooks();
            waitFor(() -> run.monitorLooks() > seen + 2);
            assertTrue(warnings.stream().noneMatch(w -> w.contains("has not progressed")), "not yet: " + warnings);
            clock.advance(Duration.ofMinutes(2));
            // a leader transfer running beside the move (they overlap) may be flagged too: the move's own flag is the one read
            String moveFlag = "Step " + (move.index() + 1) + " has not progressed";
            waitFor(() -> warnings.stream().anyMatch(w -> w.startsWith(moveFlag)));
            String flag = warnings.stream().filter(w -> w.startsWith(moveFlag)).findFirst().orElseThrow();
            assertTrue(flag.startsWith("Step " + (move.index() + 1) + " has not progressed for 11m 00s"), flag);
            assertTrue(flag.contains("partition " + move.partition() + ", " + move.from() + " → " + move.to()), flag);
            assertTrue(flag.contains("last engine message: "), flag);
            clock.advance(Duration.ofMinutes(30));
            long later = run.monitorLooks();
            waitFor(() -> run.monitorLooks() > later + 2);
            assertEquals(1, warnings.stream().filter(w -> w.startsWith("Step " + (move.index() + 1) + " has not progressed")).count(),
                    "flagged once, not at every look: " + warnings);
            waitFor(() -> {
                sandbox.cluster().clock().runUntilIdle();
                return run.result().isDone();
            });
            assertEquals(RunState.SUCCEEDED, run.result().get().state());
            assertTrue(infos.stream().anyMatch(i -> i.startsWith("Step " + (move.index() + 1) + " moves again")), infos.toString());
        }
    }

    @Test
    void losingAPartitionsMajorityPausesTheRunAndNamesIt() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.manual(SandboxFixtures.kuduBaseline())) {
            ClusterSnapshot before = sandbox.snapshot();
            Plan plan = new Planner().plan(before, RemoveServers.of(TS2), sandbox.capabilities());
            TestClock clock = new TestClock();
            ExecutorOptions options = new ExecutorOptions(5, 3, Duration.ZERO)
                    .withMonitor(Duration.ofDays(1), Duration.ZERO, Duration.ofMillis(5), clock);
            List<String> warnings = new CopyOnWriteArrayList<>();
            PlanExecution run = new PlanExecution(plan, sandbox, options, collecting(warnings, new CopyOnWriteArrayList<>()));
            Step move = plan.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).findFirst().orElseThrow();
            run.start();
            waitFor(() -> {
                sandbox.cluster().clock().runNext();
                return run.stateOf(move.index()) == StepState.RUNNING;
            });
            // Two servers that share a partition die together: that partition keeps one copy of three.
            Partition shared = before.partitions().stream().filter(p -> p.isOn(ServerId.of("ts-1")) && p.isOn(ServerId.of("ts-3")))
                    .findFirst().orElseThrow();
            sandbox.cluster().kill(ServerId.of("ts-1"));
            sandbox.cluster().kill(ServerId.of("ts-3"));
            waitFor(() -> run.state() == RunState.PAUSED);
            String why = warnings.stream().filter(w -> w.startsWith("Paused: the cluster lost availability")).findFirst().orElseThrow();
            assertTrue(why.contains("(no majority)"), why);
            assertTrue(warnings.stream().anyMatch(w -> w.contains(shared.id().value())) || why.contains("…"), why);
            run.cancel();
            waitFor(() -> {
                sandbox.cluster().clock().runUntilIdle();
                return run.result().isDone();
            });
            assertEquals(RunState.CANCELLED, run.result().get().state());
        }
    }
}
