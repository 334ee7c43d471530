package io.tabletop.executor;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.testing.DelegatingConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run never hangs: whatever is thrown on a step's path (a RuntimeException or an Error, from the connector,
 * its progress, the check of the cluster after a failure, the run's listener) ends that step FAILED with one
 * line naming the cause, gives its slots back, and the run ends by its rules. One move per server, so a slot
 * kept by the broken step would stop every later move on its servers.
 */
class StepFaultTest {
    /** One move per server: every move of ts-2 waits for the one before it to give its slots back. */
    private static final ExecutorOptions ONE_AT_A_TIME = new ExecutorOptions(1, 3, Duration.ZERO);
    private static final ServerId TS2 = ServerId.of("ts-2");
    private static final long BOUND_SECONDS = 30;

    /** Where on the step's path the fault is thrown. */
    enum Point {
        BEFORE_PROGRESS, AFTER_PROGRESS, AT_THE_END, LOG_CALLBACK, VERIFYING_AFTER_LOST_ANSWER,
        RETRYABLE_CHECK, READING_THE_CLUSTER_AFTER_REFUSAL, LISTENER_ON_START, LISTENER_ON_PROGRESS, LISTENER_ON_RETRY_WAIT,
        COMMAND_WHEN_AUDITING_THE_START
    }

    /** How it is thrown. */
    enum Kind {
        RUNTIME(RuntimeException::new, "RuntimeException"),
        ASSERTION(AssertionError::new, "AssertionError"),
        STACK_OVERFLOW(StackOverflowError::new, "StackOverflowError");

        final Function<String, Throwable> make;
        final String type;

        Kind(Function<String, Throwable> make, String type) {
            this.make = make;
            this.type = type;
        }
    }

    static Stream<Arguments> faults() {
        List<Arguments> out = new ArrayList<>();
        for (Point p : Point.values()) {
            for (Kind k : Kind.values()) {
                out.add(Arguments.of(p, k));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{1} at {0}")
    @MethodSource("faults")
    void aThrowableAnywhereOnAStepsPathEndsThatStepFailedAndTheRunEnds(Point point, Kind kind) throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            Step broken = firstMove(plan);
            String cause = "boom at " + point;
            Throwable fault = kind.make.apply(cause);
            Faulty connector = new Faulty(sandbox, broken, point, fault);
            ExecutionListener listener = new FaultyListener(connector, broken, point);

            RunResult r = new PlanExecution(plan, connector, ONE_AT_A_TIME, listener).start().get(BOUND_SECONDS, TimeUnit.SECONDS);

            assertTrue(connector.thrown.get() > 0, "the fault was thrown");
            RunResult.StepOutcome o = r.steps().get(broken.index());
            assertEquals(StepState.FAILED, o.state(), o.message());
            assertTrue(o.message().contains(kind.type + ": " + cause), o.message());
            assertFalse(o.message().contains("\n") || o.message().contains("\tat ") || o.message().contains("at io.tabletop"),
                    "one line, no stack trace: " + o.message());
            assertEquals(RunState.FAILED, r.state(), "a failed step ends the run FAILED, as a connector's failure does");
            assertAllEnded(r);
            // its slots came back: every other move of ts-2 ran after it, one at a time
            for (Step s : plan.steps()) {
                if (s.type() == StepType.MOVE_REPLICA && s.index() != broken.index()) {
                    assertEquals(StepState.SUCCEEDED, r.steps().get(s.index()).state(), s.describe() + ": " + r.steps().get(s.index()).message());
                }
            }
            // and, as after any failed step, no barrier ran: ts-2 was never stopped with a replica on it
            assertTrue(plan.steps().stream().filter(s -> s.type() == StepType.STOP_SERVER || s.type() == StepType.UNREGISTER_SERVER)
                    .allMatch(s -> r.steps().get(s.index()).state() == StepState.SKIPPED), r.steps().toString());
        }
    }

    /**
     * As reported: a step fails (as a RecoverTable can), and the move that follows is refused after the engine
     * has taken its replica off the source and put it elsewhere. The worker used to end that running move
     * SKIPPED, which the step table forbids: it died on "illegal step transition RUNNING → SKIPPED", the move
     * stayed RUNNING and the run never ended. Now the move ends REPLANNED (the cluster changed under it).
     */
    @Test
    void aMoveRefusedAfterTheEngineMovedItsReplicaEndsLegallyAfterAnEarlierFailure() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            ClusterSnapshot before = sandbox.snapshot();
            Plan plan = new Planner().plan(before, RemoveServers.of(TS2), sandbox.capabilities());
            List<Step> moves = plan.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).toList();
            assertTrue(moves.size() >= 2, "two moves to work with");
            Step fails = moves.get(0);
            Step refused = moves.get(1);
            ServerId elsewhere = before.servers().stream().map(s -> s.id())
                    .filter(id -> !id.equals(TS2) && !id.equals(refused.to()) && !before.partition(refused.partition()).orElseThrow().isOn(id))
                    .findFirst().orElseThrow();
            CountDownLatch firstFailed = new CountDownLatch(1);
            ClusterConnector connector = new DelegatingConnector(sandbox) {
                @Override
                public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
                    if (step.index() == fails.index()) {
                        throw new ConnectorException(engine(), "recover table", "op failed", ConnectorException.Kind.REFUSED, null);
                    }
                    if (step.index() == refused.index()) {
                        assertTrue(firstFailed.await(BOUND_SECONDS, TimeUnit.SECONDS), "the first step failed");
                        try {
                            sandbox.cluster().moveReplica(refused.partition(), refused.from(), elsewhere, (f, m) -> { })
                                    .get(BOUND_SECONDS, TimeUnit.SECONDS);
                        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                            throw new AssertionError(e);
                        }
                        throw new ConnectorException(engine(), "migrate", "the nameserver refused it", ConnectorException.Kind.REFUSED, null);
                    }
                    inner.execute(step, progress);
                }
            };
            ExecutionListener listener = new ExecutionListener() {
                @Override
                public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                    if (step.index() == fails.index() && to == StepState.FAILED) {
                        firstFailed.countDown();
                    }
                }
            };
            // two moves at a time, so that the refused move runs while the first fails
            RunResult r = new PlanExecution(plan, connector, new ExecutorOptions(2, 1, Duration.ZERO), listener)
                    .start().get(BOUND_SECONDS, TimeUnit.SECONDS);

            assertEquals(StepState.FAILED, r.steps().get(fails.index()).state());
            RunResult.StepOutcome o = r.steps().get(refused.index());
            assertEquals(StepState.REPLANNED, o.state(), o.message());
            assertTrue(o.message().contains("no longer holds " + refused.partition()) && o.message().contains("the nameserver refused it"),
                    o.message());
            assertEquals(RunState.FAILED, r.state(), "the first failure ends the run FAILED");
            assertAllEnded(r);
        }
    }

    /** A move whose source lost its copy while the partition lost a copy too is not drift: it stays FAILED, saying so. */
    @Test
    void aRefusedMoveWhoseSourceLostTheCopyWithoutAReplacementStaysFailed() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            Step move = firstMove(plan);
            ClusterConnector connector = new DelegatingConnector(sandbox) {
                @Override
                public ClusterSnapshot snapshot() throws ConnectorException {
                    ClusterSnapshot c = inner.snapshot();
                    if (!Thread.currentThread().getName().contains("-step-")) {
                        return c;
                    }
                    // as a step's worker reads it after the refusal: the copy on the source is gone, and not replaced
                    List<io.tabletop.domain.Partition> ps = c.partitions().stream()
                            .map(p -> p.id().equals(move.partition()) ? p.withReplicas(p.replicas().stream()
                                    .filter(x -> !x.server().equals(move.from())).toList()) : p).toList();
                    return c.withPartitions(ps);
                }

                @Override
                public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
                    if (step.index() == move.index()) {
                        throw new ConnectorException(engine(), "migrate", "refused", ConnectorException.Kind.REFUSED, null);
                    }
                    inner.execute(step, progress);
                }
            };
            RunResult r = new PlanExecution(plan, connector, ONE_AT_A_TIME, null).start().get(BOUND_SECONDS, TimeUnit.SECONDS);
            RunResult.StepOutcome o = r.steps().get(move.index());
            assertEquals(StepState.FAILED, o.state(), o.message());
            assertTrue(o.message().contains("no longer holds " + move.partition() + ", which has"), o.message());
            assertEquals(RunState.FAILED, r.state());
            assertAllEnded(r);
        }
    }

    /** The listener fails to record a step's end: the step keeps the end it had (its effect is in the cluster), and the run ends. */
    @Test
    void aListenerThatFailsOnAStepsEndLeavesTheStepAsItEndedAndTheRunGoesOn() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            Step move = firstMove(plan);
            List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            ExecutionListener listener = new ExecutionListener() {
                @Override
                public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                    if (step.index() == move.index() && to == StepState.SUCCEEDED) {
                        throw new IllegalStateException("journal full");
                    }
                }

                @Override
                public void log(Level level, String message) {
                    if (level == Level.ERROR) {
                        errors.add(message);
                    }
                }
            };
            RunResult r = new PlanExecution(plan, sandbox, ONE_AT_A_TIME, listener).start().get(BOUND_SECONDS, TimeUnit.SECONDS);
            assertEquals(StepState.SUCCEEDED, r.steps().get(move.index()).state());
            assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            assertTrue(errors.stream().anyMatch(e -> e.startsWith("Step " + (move.index() + 1) + " ended SUCCEEDED, but the run's listener failed")
                    && e.contains("IllegalStateException: journal full")), errors.toString());
            assertAllEnded(r);
        }
    }

    /** The dispatcher refuses a step: it ends FAILED, not started, with the reason; the others run; the run ends. */
    @Test
    void aDispatcherThatRefusesAStepEndsItAndTheRunEnds() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            Step move = firstMove(plan);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool();
            try {
                StepDispatcher refusing = (step, work) -> {
                    if (step.index() == move.index()) {
                        throw new java.util.concurrent.RejectedExecutionException("pool shut down");
                    }
                    pool.execute(work);
                };
                RunResult r = new PlanExecution(plan, sandbox, ONE_AT_A_TIME, null, refusing).start().get(BOUND_SECONDS, TimeUnit.SECONDS);
                RunResult.StepOutcome o = r.steps().get(move.index());
                assertEquals(StepState.FAILED, o.state());
                assertEquals("not started: unexpected error: RejectedExecutionException: pool shut down", o.message());
                assertEquals(RunState.FAILED, r.state());
                assertAllEnded(r);
                assertTrue(plan.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA && s.index() != move.index())
                        .allMatch(s -> r.steps().get(s.index()).state() == StepState.SUCCEEDED), "its slots came back");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * The coordinator itself meets an Error (here: reading the cluster for a later phase's drift check): the
     * run ends FAILED with the reason, the steps that had not started end SKIPPED, and done() completes.
     */
    @Test
    void aThrowableOnTheCoordinatorEndsTheRunFailedWithTheReason() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            assertTrue(plan.phases().size() >= 2, "a later phase to check");
            AtomicInteger coordinatorReads = new AtomicInteger();
            ClusterConnector connector = new DelegatingConnector(sandbox) {
                @Override
                public ClusterSnapshot snapshot() throws ConnectorException {
                    if (Thread.currentThread().getName().contains("-coordinator") && coordinatorReads.incrementAndGet() == 2) {
                        throw new AssertionError("snapshot decoder broke");
                    }
                    return inner.snapshot();
                }
            };
            List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            ExecutionListener listener = new ExecutionListener() {
                @Override
                public void log(Level level, String message) {
                    if (level == Level.ERROR) {
                        errors.add(message);
                    }
                }
            };
            RunResult r = new PlanExecution(plan, connector, ONE_AT_A_TIME, listener).start().get(BOUND_SECONDS, TimeUnit.SECONDS);
            assertEquals(2, coordinatorReads.get(), "the second phase's check broke");
            assertEquals(RunState.FAILED, r.state());
            assertAllEnded(r);
            assertTrue(r.steps().stream().anyMatch(o -> o.state() == StepState.SUCCEEDED), "the first phase ran");
            assertTrue(r.steps().stream().filter(o -> o.state() == StepState.SKIPPED)
                    .allMatch(o -> o.message().equals("not run: the run's coordinator failed: AssertionError: snapshot decoder broke")),
                    r.steps().toString());
            assertTrue(r.count(StepState.SKIPPED) > 0);
            assertTrue(errors.stream().anyMatch(e -> e.startsWith("The run stops: the run's coordinator failed: AssertionError: snapshot decoder broke")),
                    errors.toString());
        }
    }

    private static Step firstMove(Plan plan) {
        return plan.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).findFirst().orElseThrow();
    }

    /** Every step has an end: none RUNNING, none waiting to start or to retry. */
    private static void assertAllEnded(RunResult r) {
        for (RunResult.StepOutcome o : r.steps()) {
            assertTrue(o.state().isTerminal(), o.step().describe() + " left " + o.state() + ": " + o.message());
        }
    }

    /** The sandbox, with one step that throws {@code fault} at {@code point}. */
    private static final class Faulty extends DelegatingConnector {
        final Step broken;
        final Point point;
        final Throwable fault;
        final AtomicInteger thrown = new AtomicInteger();
        /** On the broken step's worker once its attempt has failed: which of its looks at the cluster throws (0: none). */
        private final ThreadLocal<Integer> faultyRead = ThreadLocal.withInitial(() -> 0);

        Faulty(ClusterConnector inner, Step broken, Point point, Throwable fault) {
            super(inner);
            this.broken = broken;
            this.point = point;
            this.fault = fault;
        }

        void fire() {
            thrown.incrementAndGet();
            if (fault instanceof RuntimeException e) {
                throw e;
            }
            throw (Error) fault;
        }

        @Override
        public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
            if (step.index() != broken.index()) {
                inner.execute(step, progress);
                return;
            }
            switch (point) {
                case BEFORE_PROGRESS -> fire();
                case AFTER_PROGRESS -> {
                    progress.update(0.5, "half way");
                    fire();
                }
                case AT_THE_END -> {
                    inner.execute(step, progress);
                    fire();
                }
                case LISTENER_ON_PROGRESS -> {
                    progress.update(0.25, "a quarter");
                    inner.execute(step, progress);
                }
                case LOG_CALLBACK -> {
                    progress.log("copying");
                    inner.execute(step, progress);
                }
                case VERIFYING_AFTER_LOST_ANSWER -> {
                    faultyRead.set(1); // the check whether the cluster shows it done anyway
                    throw new ConnectorException(engine(), "move", "connection reset", ConnectorException.Kind.OUTCOME_UNKNOWN, null);
                }
                case RETRYABLE_CHECK, LISTENER_ON_RETRY_WAIT ->
                        throw new ConnectorException(engine(), "move", "timed out", ConnectorException.Kind.TRANSIENT, null);
                case READING_THE_CLUSTER_AFTER_REFUSAL -> {
                    faultyRead.set(2); // after that check: the worker's look at what the failure turns out to be
                    throw new ConnectorException(engine(), "move", "refused", ConnectorException.Kind.REFUSED, null);
                }
                default -> inner.execute(step, progress);
            }
        }

        @Override
        public ClusterSnapshot snapshot() throws ConnectorException {
            int n = faultyRead.get();
            if (n > 0) {
                faultyRead.set(n - 1);
                if (n == 1) {
                    fire();
                }
            }
            return inner.snapshot();
        }

        @Override
        public boolean isRetryable(Step step, ConnectorException e) {
            if (point == Point.RETRYABLE_CHECK && step.index() == broken.index()) {
                fire();
            }
            return inner.isRetryable(step, e);
        }

        @Override
        public String command(Step step) {
            if (point == Point.COMMAND_WHEN_AUDITING_THE_START && step.index() == broken.index()) {
                fire();
            }
            return inner.command(step);
        }

        @Override
        public EngineCapabilities capabilities() {
            return inner.capabilities();
        }
    }

    /**
     * The run's listener as the journal is: it asks the connector for a started step's command (to audit it),
     * and at the chosen point it throws.
     */
    private static final class FaultyListener implements ExecutionListener {
        private final Faulty connector;
        private final Step broken;
        private final Point point;

        FaultyListener(Faulty connector, Step broken, Point point) {
            this.connector = connector;
            this.broken = broken;
            this.point = point;
        }

        @Override
        public void stepStateChanged(Step step, StepState from, StepState to, String message) {
            if (to == StepState.RUNNING && from != StepState.RETRY_WAIT) {
                assertNotNull(connector.command(step)); // as RunJournaling audits a step's start
            }
            if (step.index() != broken.index()) {
                return;
            }
            if ((point == Point.LISTENER_ON_START && to == StepState.RUNNING)
                    || (point == Point.LISTENER_ON_RETRY_WAIT && to == StepState.RETRY_WAIT)) {
                connector.fire();
            }
        }

        @Override
        public void stepProgress(Step step, double fraction, String message) {
            if (step.index() == broken.index() && point == Point.LISTENER_ON_PROGRESS) {
                connector.fire();
            }
        }

        @Override
        public void log(Level level, String message) {
            if (point == Point.LOG_CALLBACK && message.startsWith("Step " + (broken.index() + 1) + ": copying")) {
                connector.fire();
            }
        }
    }
}
