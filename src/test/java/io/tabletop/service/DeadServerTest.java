package io.tabletop.service;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A destination dies in the middle of a drain, on a sandbox that handles a dead server as Kudu does with its
 * default timeouts (declared dead after 60 s; its copies replaced after 300 s; no move of a tablet that is
 * not healthy), on a virtual clock that runs 100 times faster than real time: the run knows the server dead
 * once, plans the rest again around it in one go, parks the moves Kudu refuses in WAITING with the reason and
 * a countdown, and finishes by itself, with no step FAILED. Times below are the sandbox's (virtual) seconds.
 */
class DeadServerTest {
    private static final ServerId DRAINED = ServerId.of("ts-1");
    private static final long MB = 1_000_000L;

    @TempDir
    Path dir;

    /** {@code servers} tablet servers, 60 tablets of 300 MB at RF 3. */
    private static SandboxConnector sandbox(int servers) {
        ClusterSnapshot c = SandboxFixtures.build("dies", servers, 0, new String[]{"a", "b", "c"}, new int[]{24, 20, 16}, 3, 0, 16L);
        ClusterSnapshot sized = c.withPartitions(c.partitions().stream()
                .map(p -> new Partition(p.id(), p.table(), 300 * MB, 1_000_000L, p.replicas())).toList());
        return SandboxConnector.realTime(sized, 100).kuduFailureModel(Duration.ofSeconds(60), Duration.ofSeconds(300));
    }

    /** What a run went through. */
    static class Seen implements ExecutionListener {
        final List<String> failed = new CopyOnWriteArrayList<>();
        final List<String> waiting = new CopyOnWriteArrayList<>();
        final List<Instant> until = new CopyOnWriteArrayList<>();
        final List<String> replans = new CopyOnWriteArrayList<>();
        final List<String> log = new CopyOnWriteArrayList<>();
        final List<String> lost = new CopyOnWriteArrayList<>();
        final List<RunState> states = new CopyOnWriteArrayList<>();
        final AtomicInteger moved = new AtomicInteger();
        final AtomicLong maxEta = new AtomicLong();

        @Override
        public void stepStateChanged(Step step, StepState from, StepState to, String message) {
            if (to == StepState.FAILED) {
                failed.add(step.describe() + ": " + message);
            }
            if (to == StepState.SUCCEEDED && step.type() == StepType.MOVE_REPLICA) {
                moved.incrementAndGet();
            }
        }

        @Override
        public void stepWaiting(Step step, String reason, Instant at) {
            waiting.add(reason);
            if (at != null) {
                until.add(at);
            }
        }

        @Override
        public void planReplaced(Plan plan, String why) {
            replans.add(why);
        }

        @Override
        public void serverLost(ServerId server, String why) {
            lost.add(why);
        }

        @Override
        public void runStateChanged(RunState from, RunState to) {
            states.add(to);
        }

        @Override
        public void log(Level level, String message) {
            log.add(message);
        }
    }

    /** @param startedAt the sandbox's clock when the run started; the other times count from there */
    private record Outcome(RunResult result, double virtualSeconds, double killedAt, ServerId dead, Seen seen, SandboxConnector sandbox,
                           Runs runs, Map<String, Long> rowsBefore, double startedAt) {
    }

    /**
     * Drains {@link #DRAINED}; once 6 moves have succeeded, kills the destination of a move in flight.
     * {@code afterKill} runs on the test thread once the kill has happened.
     */
    private Outcome drain(int servers, boolean replaceNow, Consumer<Outcome> afterKill) throws Exception {
        SandboxConnector sandbox = sandbox(servers);
        try {
            ClusterSnapshot before = sandbox.snapshot();
            Map<String, Long> rows = sandbox.rowCounts().orElseThrow();
            Plan plan = new Planner().plan(before, RemoveServers.of(DRAINED), sandbox.capabilities());
            AtomicReference<ServerId> victim = new AtomicReference<>();
            AtomicLong killedAt = new AtomicLong(-1);
            AtomicBoolean armed = new AtomicBoolean(true);
            Seen seen = new Seen() {
                @Override
                public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                    super.stepStateChanged(step, from, to, message);
                    if (to == StepState.RUNNING && step.type() == StepType.MOVE_REPLICA && moved.get() >= 6 && armed.compareAndSet(true, false)) {
                        victim.set(step.to());
                        sandbox.cluster().clock().schedule(500, () -> {
                            killedAt.set(sandbox.cluster().clock().nowMillis());
                            sandbox.cluster().kill(step.to());
                        });
                    }
                }
            };
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
            ExecutorOptions options = new ExecutorOptions(5, 3, Duration.ZERO)
                    .withMonitor(Duration.ofDays(1), Duration.ofSeconds(5), Duration.ofMillis(5), sandbox.clock())
                    .withReplaceDeadCopies(replaceNow);
            long t0 = sandbox.cluster().clock().nowMillis();
            Runs.Run run = runs.start(plan, sandbox, "sandbox:dies", false, options, seen, null);
            if (afterKill != null) {
                io.tabletop.executor.PlanExecutionTest.waitFor(() -> killedAt.get() >= 0 || run.done().isDone());
                afterKill.accept(new Outcome(null, 0, killedAt.get() / 1000.0, victim.get(), seen, sandbox, runs, rows, t0 / 1000.0));
            }
            RunResult r;
            try {
                r = run.done().get(2, TimeUnit.MINUTES);
            } catch (java.util.concurrent.TimeoutException e) {
                StringBuilder sb = new StringBuilder();
                var ex = run.execution();
                for (Step st : ex.plan().steps()) {
                    if (!ex.stateOf(st.index()).isTerminal()) {
                        sb.append(st.index() + 1).append(' ').append(st.describe()).append(' ').append(ex.stateOf(st.index())).append("; ");
                    }
                }
                run.cancel();
                throw new AssertionError("the run did not end: " + ex.state() + " at " + sandbox.cluster().clock().nowMillis() / 1000
                        + " s; open: " + sb + "\nlast waits: " + seen.waiting.subList(Math.max(0, seen.waiting.size() - 3), seen.waiting.size())
                        + "\ncluster: " + sandbox.snapshot().partitions().stream().filter(p -> p.replicas().size() != 3).map(p -> p.id() + "=" + p.replicas()).toList()
                        + "\nlog: " + String.join("\n", seen.log), e);
            }
            // a few more looks while a run ends: the last progress read happens on the test thread
            return new Outcome(r, (sandbox.cluster().clock().nowMillis() - t0) / 1000.0, (killedAt.get() - t0) / 1000.0, victim.get(),
                    seen, sandbox, runs, rows, t0 / 1000.0);
        } catch (Exception | Error e) {
            sandbox.close();
            throw e;
        }
    }

    private static void assertDrainedAround(Outcome o) throws Exception {
        ClusterSnapshot after = o.sandbox().snapshot();
        assertTrue(after.server(DRAINED).isEmpty(), "the drained server is unregistered");
        for (Partition p : after.partitions()) {
            assertFalse(p.isOn(DRAINED), p.id() + " still on " + DRAINED);
            assertFalse(p.isOn(o.dead()), p.id() + " still has a copy on the dead " + o.dead());
            assertEquals(3, p.voterCount(), p.id() + " voters: " + p.replicas());
            assertTrue(p.leader().flatMap(after::server).map(s -> s.state().isUp()).orElse(false), p.id() + " has a live leader");
        }
        assertEquals(o.rowsBefore(), o.sandbox().rowCounts().orElseThrow(), "no row lost");
    }

    @Test
    void aDeadDestinationIsPlannedAroundOnceAndTheMovesKuduRefusesWaitForItsOwnRepair() throws Exception {
        Outcome o = drain(5, false, null);
        try (SandboxConnector ignored = o.sandbox()) {
            assertEquals(RunState.SUCCEEDED, o.result().state(), () -> o.seen().log.toString());
            assertEquals(List.of(), o.seen().failed, "no step ends FAILED for what the run resolves itself");
            assertNotNull(o.dead());
            assertEquals(1, o.seen().lost.size(), "the dead server is found once: " + o.seen().lost);
            assertTrue(o.seen().lost.get(0).startsWith(o.dead().value()), o.seen().lost.toString());
            assertFalse(o.seen().replans.isEmpty(), "the rest was planned again around " + o.dead());
            assertTrue(o.seen().replans.get(0).contains(o.dead() + " stopped answering"), o.seen().replans.toString());
            assertTrue(o.seen().replans.size() <= 3, "re-plans: " + o.seen().replans);
            // the moves Kudu refuses wait, with the reason, the setting it comes from, and a countdown
            String why = o.seen().waiting.stream().filter(w -> w.contains("has a copy on dead " + o.dead())).findFirst()
                    .orElseThrow(() -> new AssertionError("no step waited for " + o.dead() + "'s copies: " + o.seen().waiting));
            assertTrue(why.contains("replaces it after follower_unavailable_considered_failed_sec = 300 s, in about"), why);
            // counted down from the moment the server went silent: 300 s after the kill
            Instant expected = Instant.ofEpochMilli(Math.round((o.killedAt() + o.startedAt()) * 1000) + 300_000);
            assertTrue(o.seen().until.stream().anyMatch(u -> Math.abs(Duration.between(expected, u).toMillis()) <= 2_000),
                    "a countdown to " + expected + ": " + o.seen().until);
            assertTrue(o.virtualSeconds() >= o.killedAt() + 300, "the run waited for Kudu's own repair: ended at " + o.virtualSeconds()
                    + " s, the server died at " + o.killedAt() + " s");
            assertDrainedAround(o);
            // the journal tells the story: the server found dead, steps parked with their reason, the re-plan
            String journal = Files.readString(Files.list(dir.resolve("runs")).findFirst().orElseThrow().resolve("journal.jsonl"));
            assertTrue(journal.contains("\"server-lost\""), "server-lost journaled");
            assertTrue(journal.contains("\"WAITING\""), "waiting steps journaled");
            assertTrue(journal.contains("re-planned: " + o.dead() + " stopped answering"), "re-plan journaled");
        }
    }

    @Test
    void replacingTheDeadCopiesNowFinishesWellBeforeKuduWould() throws Exception {
        Outcome o = drain(5, true, null);
        try (SandboxConnector ignored = o.sandbox()) {
            assertEquals(RunState.SUCCEEDED, o.result().state(), () -> o.seen().log.toString());
            assertEquals(List.of(), o.seen().failed);
            assertTrue(o.virtualSeconds() < o.killedAt() + 200, "ended " + (o.virtualSeconds() - o.killedAt())
                    + " s after the death, not after Kudu's 300 s");
            assertDrainedAround(o);
            List<String> audit = Files.readAllLines(o.runs().audit().file());
            assertTrue(audit.stream().anyMatch(e -> e.contains("drop the copy of") && e.contains("dead " + o.dead())
                    && e.contains("sandbox: tablet change_config remove_replica")), "every drop audited with its command: " + audit);
            assertTrue(o.seen().log.stream().anyMatch(l -> l.startsWith("Replacing the dead copies now")), o.seen().log.toString());
        }
    }

    @Test
    void aSecondDeathWithoutAMajorityPausesTheRunUntilTheServerComesBack() throws Exception {
        AtomicReference<ServerId> second = new AtomicReference<>();
        Outcome o = drain(6, false, during -> {
            try {
                // once moves wait for the first dead server's copies, a second server that shares tablets with it dies
                io.tabletop.executor.PlanExecutionTest.waitFor(() -> !during.seen().waiting.isEmpty());
                ClusterSnapshot now = during.sandbox().snapshot();
                ServerId other = now.partitions().stream().filter(p -> p.isOn(during.dead()))
                        .flatMap(p -> p.replicas().stream().map(r -> r.server()))
                        .filter(s -> !s.equals(during.dead()) && !s.equals(DRAINED)).findFirst().orElseThrow();
                second.set(other);
                during.sandbox().cluster().clock().schedule(0, () -> during.sandbox().cluster().kill(other));
                io.tabletop.executor.PlanExecutionTest.waitFor(() -> during.seen().states.contains(RunState.PAUSED));
                assertTrue(during.seen().log.stream().anyMatch(l -> l.startsWith("Paused: the cluster lost availability") && l.contains("no majority")),
                        during.seen().log.toString());
                // the operator restarts it: the run goes on by itself
                during.sandbox().cluster().clock().schedule(0, () -> during.sandbox().cluster().startServer(other));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        try (SandboxConnector ignored = o.sandbox()) {
            assertEquals(RunState.SUCCEEDED, o.result().state(), () -> o.seen().log.toString());
            assertEquals(List.of(), o.seen().failed);
            assertTrue(o.seen().log.stream().anyMatch(l -> l.contains("the run goes on by itself")), o.seen().log.toString());
            int paused = o.seen().states.indexOf(RunState.PAUSED);
            assertTrue(paused >= 0 && o.seen().states.subList(paused, o.seen().states.size()).contains(RunState.RUNNING),
                    "paused, then running again without the operator: " + o.seen().states);
            assertDrainedAround(o);
            Server back = o.sandbox().snapshot().server(second.get()).orElseThrow();
            assertTrue(back.state().isUp(), second.get() + " is back");
        }
    }
}
