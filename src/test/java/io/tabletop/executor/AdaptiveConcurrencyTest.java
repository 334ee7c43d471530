package io.tabletop.executor;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.planner.Invariants;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static io.tabletop.executor.PlanExecutionTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Adaptive concurrency: the controller's rules on their own, and whole drains on the sandbox with a
 * bandwidth limit per server, on a virtual clock that moves only when every running step waits for it.
 */
class AdaptiveConcurrencyTest {
    private static final ServerId DRAINED = ServerId.of("ts-2");
    /** The sandbox's moves copy at 100 MB/s each; a server carries 800 MB/s: past 8 moves, more only queue. */
    private static final double SERVER_BANDWIDTH = 800e6;

    // ---- the rules ------------------------------------------------------------------------------------

    @Test
    void itRisesWhileMovesKeepTheirPaceAndNeverPassesTheCeiling() {
        AdaptiveConcurrency a = new AdaptiveConcurrency(5, 10);
        List<Integer> levels = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            a.moveEnded(a.epoch(), 2.0, 2.0).ifPresent(c -> levels.add(c.to()));
        }
        assertEquals(List.of(7, 9, 10), levels, "probes upwards two at a time, up to the ceiling");
        assertEquals(10, a.level());
    }

    @Test
    void aLevelThatMovesNoMoreDataGivesWayToTheOneBelowAndProbingStops() {
        AdaptiveConcurrency a = new AdaptiveConcurrency(5, 20);
        // A server carrying 8 moves' worth: beyond 8, each move takes longer in proportion.
        List<AdaptiveConcurrency.Change> changes = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            double took = 2.0 * Math.max(1, a.level() / 8.0);
            a.moveEnded(a.epoch(), took, 2.0).ifPresent(changes::add);
        }
        assertEquals(List.of(7, 9, 11, 9), changes.stream().map(AdaptiveConcurrency.Change::to).toList(), changes.toString());
        assertTrue(changes.get(3).reason().contains("move no more data than 9"), changes.get(3).reason());
        assertEquals(9, a.level(), "settles one probe past the knee, where throughput is the knee's");
    }

    @Test
    void movesThatSlowDownLowerTheLevelAndProbingStartsAgain() {
        AdaptiveConcurrency a = new AdaptiveConcurrency(5, 5);
        for (int i = 0; i < 10; i++) {
            assertEquals(Optional.empty(), a.moveEnded(a.epoch(), 2.0, 2.0), "at the ceiling: it holds");
        }
        Optional<AdaptiveConcurrency.Change> c = Optional.empty();
        for (int i = 0; i < 3 && c.isEmpty(); i++) {
            c = a.moveEnded(a.epoch(), 6.0, 2.0);
        }
        assertTrue(c.isPresent());
        assertEquals(4, c.get().to(), "down to 70%");
        assertTrue(c.get().reason().startsWith("moves slowed down: 6.0 s per move"), c.get().reason());
    }

    @Test
    void degradedHealthHalvesTheLevelAndHoldsItForTwoWindows() {
        AdaptiveConcurrency a = new AdaptiveConcurrency(8, 12);
        AdaptiveConcurrency.Change c = a.healthDegraded("ts-3 has not heartbeated for 12 s").orElseThrow();
        assertEquals(4, c.to());
        assertEquals("health degraded: ts-3 has not heartbeated for 12 s", c.reason());
        List<Integer> levels = new ArrayList<>();
        for (int i = 0; i < 2 * 3; i++) {
            a.moveEnded(a.epoch(), 2.0, 2.0).ifPresent(x -> levels.add(x.to()));
        }
        assertEquals(List.of(6), levels, "no rise for two windows of 3, then a probe");
        assertEquals(Optional.empty(), new AdaptiveConcurrency(1, 4).healthDegraded("x"), "never below 1");
    }

    @Test
    void aMoveThatStartedBeforeAChangeDoesNotJudgeTheNewLevel() {
        AdaptiveConcurrency a = new AdaptiveConcurrency(5, 10);
        int old = a.epoch();
        for (int i = 0; i < 3; i++) {
            a.moveEnded(a.epoch(), 2.0, 2.0);
        }
        assertEquals(7, a.level());
        for (int i = 0; i < 50; i++) {
            assertEquals(Optional.empty(), a.moveEnded(old, 50.0, 2.0), "a slow move of the old level is ignored");
        }
        assertEquals(7, a.level());
    }

    // ---- on the sandbox, with a bandwidth limit per server ------------------------------------------------

    /** What one drain did: its virtual seconds, the highest bound and moves in flight seen, and the changes. */
    record Drain(double seconds, int maxLevel, int maxMovesInFlight, List<String> changes, RunResult result) {
    }

    /**
     * 5 servers, 200 partitions of 1 GB at RF 3: 120 replicas to move off the drained server, each 2 s of
     * fixed cost and 10 s of copying at a move's own speed. The drained server's 800 MB/s keeps about
     * 8 × 12 / 10 ≈ 9.6 moves at full speed: the knee.
     */
    private static ClusterSnapshot cluster() {
        ClusterSnapshot c = SandboxFixtures.build("adaptive", 5, 0, new String[]{"a", "b", "c"}, new int[]{80, 60, 60}, 3, 0, 3L);
        long gb = 1_000_000_000L;
        return new ClusterSnapshot(c.engine(), c.cluster(), c.takenAt(), c.servers(), c.tables(), c.partitions().stream()
                .map(p -> new Partition(p.id(), p.table(), gb, p.rows(), p.replicas())).toList());
    }

    private static Drain drain(int start, int ceiling, Consumer<SandboxConnector> during) throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.manual(cluster())) {
            sandbox.cluster().limitServerBandwidth(SERVER_BANDWIDTH);
            ClusterSnapshot before = sandbox.snapshot();
            Plan plan = new Planner().plan(before, RemoveServers.of(DRAINED), sandbox.capabilities());
            InstantSource virtual = () -> Instant.ofEpochMilli(sandbox.cluster().clock().nowMillis());
            // a server that keeps serving but stops heartbeating (silence) degrades health here; it is not
            // counted dead (that is DeadServerTest's matter), so the drain goes on to the end
            ExecutorOptions options = new ExecutorOptions(start, 3, Duration.ZERO)
                    .withMonitor(Duration.ofDays(1), Duration.ofSeconds(5), Duration.ofMillis(2), virtual).withDeadAfter(Duration.ofHours(1));
            if (ceiling > 0) {
                options = options.withCeiling(ceiling);
            }
            List<String> changes = new CopyOnWriteArrayList<>();
            AtomicInteger maxLevel = new AtomicInteger(start);
            AtomicInteger moves = new AtomicInteger();
            PlanExecution run = new PlanExecution(plan, sandbox, options, new ExecutionListener() {
                @Override
                public void concurrencyChanged(int from, int to, String reason) {
                    changes.add(from + "→" + to + ": " + reason);
                    maxLevel.accumulateAndGet(to, Math::max);
                }

                @Override
                public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                    if (step.type() == StepType.MOVE_REPLICA && to == StepState.SUCCEEDED) {
                        moves.incrementAndGet();
                    }
                }
            });
            long t0 = sandbox.cluster().clock().nowMillis();
            run.start();
            int maxInFlight = 0;
            boolean fired = false;
            long quietSince = System.nanoTime();
            while (!run.result().isDone()) {
                try {
                    waitFor(() -> run.result().isDone() || (sandbox.stepsCaughtUp() && run.coordinatorWaiting()
                            && sandbox.stepsWaitingOnClock() == run.progress().inFlight()));
                } catch (AssertionError e) {
                    StringBuilder sb = new StringBuilder();
                    for (Step st : plan.steps()) {
                        if (run.stateOf(st.index()) == StepState.RUNNING || run.stateOf(st.index()) == StepState.RETRY_WAIT) {
                            sb.append(st.describe()).append(' ').append(run.stateOf(st.index())).append("; ");
                        }
                    }
                    throw new AssertionError("stuck: waiting=" + run.coordinatorWaiting() + " onClock=" + sandbox.stepsWaitingOnClock()
                            + " inFlight=" + run.progress().inFlight() + " state=" + run.state() + " running: " + sb, e);
                }
                maxInFlight = Math.max(maxInFlight, sandbox.cluster().movesInFlight());
                if (!fired && moves.get() >= 40) {
                    fired = true;
                    during.accept(sandbox);
                }
                if (!run.result().isDone() && !sandbox.cluster().clock().runNext()) {
                    // a step is between registering its work and waiting for it: its event comes in a moment
                    if (System.nanoTime() > quietSince + 20_000_000_000L) {
                        throw new AssertionError("no event for 20 s: " + run.state() + ", " + sandbox.cluster().movesInFlight() + " moves in flight");
                    }
                    Thread.onSpinWait();
                } else {
                    quietSince = System.nanoTime();
                }
            }
            RunResult r = run.result().get();
            assertEquals(RunState.SUCCEEDED, r.state(), () -> r.failures().toString());
            assertEquals(List.of(), Invariants.violations(before, sandbox.snapshot(), List.of(DRAINED)));
            return new Drain((sandbox.cluster().clock().nowMillis() - t0) / 1000.0, maxLevel.get(), maxInFlight, changes, r);
        }
    }

    @Test
    void onAServerBandwidthLimitItSettlesNearTheBestFixedSettingWithoutPassingTheCeiling() throws Exception {
        Consumer<SandboxConnector> nothing = s -> {
        };
        double five = drain(5, 0, nothing).seconds();
        double eight = drain(8, 0, nothing).seconds();
        double twelve = drain(12, 0, nothing).seconds();
        double sixteen = drain(16, 0, nothing).seconds();
        double best = Math.min(Math.min(eight, twelve), sixteen);
        Drain adaptive = drain(5, 16, nothing);
        String seen = "adaptive " + adaptive.seconds() + " s; fixed 5: " + five + ", 8: " + eight + ", 12: " + twelve + ", 16: " + sixteen
                + "; changes: " + adaptive.changes();

        // the model leaves room above the engine's default, and little past 12
        assertTrue(twelve < 0.6 * five && sixteen > 0.95 * twelve, seen);
        assertTrue(adaptive.seconds() <= 1.2 * best, "near the best fixed setting: " + seen);
        assertTrue(adaptive.seconds() <= 0.65 * five, "well ahead of the default: " + seen);
        int settled = Integer.parseInt(adaptive.changes().get(adaptive.changes().size() - 1).replaceAll("^\\d+→(\\d+):.*", "$1"));
        assertTrue(settled >= 8 && settled <= 16, "settles past the knee, under the ceiling: " + seen);
        assertTrue(adaptive.maxLevel() <= 16 && adaptive.maxMovesInFlight() <= 16, "never past the ceiling: " + seen);
        assertTrue(adaptive.changes().get(0).startsWith("5→7: moves keep their pace"), seen);
        assertTrue(adaptive.changes().stream().anyMatch(c -> c.contains("move no more data than")), "it found the knee: " + seen);
    }

    @Test
    void aServerThatSlowsDownLowersTheLevel() throws Exception {
        Drain d = drain(5, 12, s -> s.cluster().slowServer(DRAINED, 0.25));
        assertTrue(d.changes().stream().anyMatch(c -> c.contains("moves slowed down")), d.changes().toString());
        assertTrue(d.changes().stream().anyMatch(c -> c.matches("(\\d+)→(\\d+).*") && down(c)), d.changes().toString());
    }

    @Test
    void degradedHealthLowersTheLevelWithTheReason() throws Exception {
        Drain d = drain(8, 12, s -> s.cluster().silence(ServerId.of("ts-5")));
        String c = d.changes().stream().filter(x -> x.contains("health degraded")).findFirst().orElseThrow(() -> new AssertionError(d.changes()));
        assertTrue(down(c), c);
        assertTrue(c.contains("ts-5 has not heartbeated for"), c);
        assertFalse(d.result().steps().stream().anyMatch(o -> o.state() == StepState.FAILED));
    }

    @Test
    void everyChangeIsJournaledWithItsReason(@TempDir Path dir) throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(cluster())) {
            sandbox.cluster().limitServerBandwidth(SERVER_BANDWIDTH);
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(DRAINED), sandbox.capabilities());
            InstantSource virtual = () -> Instant.ofEpochMilli(sandbox.cluster().clock().nowMillis());
            ExecutorOptions options = new ExecutorOptions(5, 3, Duration.ZERO)
                    .withMonitor(Duration.ofDays(1), Duration.ofDays(1), Duration.ofMillis(50), virtual).withCeiling(12);
            List<String> changes = new CopyOnWriteArrayList<>();
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            Runs.Run run = runs.start(plan, sandbox, "sandbox", false, options, new ExecutionListener() {
                @Override
                public void concurrencyChanged(int from, int to, String reason) {
                    changes.add(from + " → " + to + " moves per server: " + reason);
                }
            }, null);
            RunResult r = run.done().get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(RunState.SUCCEEDED, r.state());
            assertFalse(changes.isEmpty(), "the level changed");
            List<String> journaled = Files.readAllLines(dir.resolve("runs").resolve(run.runId()).resolve("journal.jsonl")).stream()
                    .filter(l -> l.contains("\"concurrency\"")).toList();
            assertEquals(changes.size(), journaled.size(), journaled.toString());
            for (int i = 0; i < changes.size(); i++) {
                String c = changes.get(i);
                assertTrue(journaled.get(i).contains(c.substring(0, c.indexOf(':'))), journaled.get(i) + " / " + c);
            }
        }
    }

    private static boolean down(String change) {
        String[] p = change.substring(0, change.indexOf(':')).split("→");
        return Integer.parseInt(p[1]) < Integer.parseInt(p[0]);
    }
}
