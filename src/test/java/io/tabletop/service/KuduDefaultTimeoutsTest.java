package io.tabletop.service;

import io.tabletop.connector.kudu.KuduBinary;
import io.tabletop.connector.kudu.KuduConnector;
import io.tabletop.connector.kudu.LocalKuduCluster;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A destination tserver is SIGKILLed in the middle of a drain on a real Kudu cluster that keeps Kudu's
 * default failure timeouts ({@code tserver_unresponsive_timeout_ms=60000},
 * {@code follower_unavailable_considered_failed_sec=300}), as production clusters do. The run finishes the
 * drain without the operator, and no step ends FAILED: by itself once Kudu has replaced the dead copies
 * (over five minutes), or well before that when the operator chose to replace them at once.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduDefaultTimeoutsTest {
    @TempDir
    Path dir;

    private LocalKuduCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
            assertTrue(cluster.tservers().stream().noneMatch(LocalKuduCluster.Proc::isAlive), "no tablet server left running");
        }
    }

    private record Drain(RunResult result, double killToEnd, ServerId victim, ServerId dead, List<String> failed, List<String> waits,
                         List<String> log, Map<String, Long> rows, KuduConnector kudu) {
    }

    private Drain drainAndKill(boolean replaceNow) throws Exception {
        cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 5); // Kudu's own timeouts
        cluster.loadTables(new int[]{24, 20, 16}, 20_000, 3);
        KuduConnector kudu = KuduConnector.local(cluster);
        io.tabletop.connector.kudu.KuduDrainTestAccess.awaitHealthy(kudu);
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        ClusterSnapshot before = kudu.snapshot();
        ServerId victim = before.servers().get(0).id();
        Plan plan = new Planner().plan(before, RemoveServers.of(victim), kudu.capabilities());

        AtomicInteger moved = new AtomicInteger();
        AtomicBoolean armed = new AtomicBoolean(true);
        AtomicLong killedAt = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<ServerId> dead = new java.util.concurrent.atomic.AtomicReference<>();
        List<String> failed = new CopyOnWriteArrayList<>();
        List<String> waits = new CopyOnWriteArrayList<>();
        List<String> log = new CopyOnWriteArrayList<>();
        ExecutionListener listener = new ExecutionListener() {
            @Override
            public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                if (to == StepState.FAILED) {
                    failed.add(step.describe() + ": " + message);
                }
                if (to == StepState.SUCCEEDED && step.type() == StepType.MOVE_REPLICA) {
                    moved.incrementAndGet();
                }
                if (to == StepState.RUNNING && step.type() == StepType.MOVE_REPLICA && moved.get() >= 6 && armed.compareAndSet(true, false)) {
                    dead.set(step.to());
                    String address = before.server(step.to()).orElseThrow().address();
                    Thread t = new Thread(() -> {
                        try {
                            killedAt.set(System.nanoTime());
                            cluster.kill(address); // SIGKILL, as a machine that dies
                        } catch (Exception e) {
                            log.add("kill failed: " + e);
                        }
                    }, "kill-destination");
                    t.start();
                }
            }

            @Override
            public void stepWaiting(Step step, String reason, Instant until) {
                waits.add(reason);
            }

            @Override
            public void log(Level level, String message) {
                log.add(message);
            }
        };
        Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
        Runs.Run run = runs.start(plan, kudu, "kudu://" + cluster.masterAddresses(), true,
                ExecutorOptions.defaults(5).withReplaceDeadCopies(replaceNow), listener, null);
        RunResult result = run.done().get(12, TimeUnit.MINUTES);
        double killToEnd = (System.nanoTime() - killedAt.get()) / 1e9;
        System.out.printf(java.util.Locale.ROOT, "KuduDefaultTimeoutsTest%s: the drain ended %.0f s after the kill (%s)%n",
                replaceNow ? " (replace now)" : "", killToEnd, result.state());
        return new Drain(result, killToEnd, victim, dead.get(), failed, waits, log, rows, kudu);
    }

    private static void assertDrained(Drain d) throws Exception {
        assertEquals(RunState.SUCCEEDED, d.result().state(), () -> String.join("\n", d.log()));
        assertEquals(List.of(), d.failed(), "no step ends FAILED for what the run resolves itself");
        ClusterSnapshot after = d.kudu().snapshot();
        assertTrue(after.server(d.victim()).isEmpty(), "the drained tserver is unregistered");
        for (Partition p : after.partitions()) {
            assertTrue(!p.isOn(d.victim()) && !p.isOn(d.dead()), p.id() + " still on " + d.victim() + " or the dead " + d.dead() + ": " + p.replicas());
            assertEquals(3, p.voterCount(), p.id() + " voters");
            assertTrue(p.leader().isPresent(), p.id() + " has a leader");
        }
        assertNotEquals(Verdict.BLOCK, d.kudu().health().verdict(), "ksck: only the dead, empty tserver is reported");
        assertEquals(d.rows(), d.kudu().rowCounts().orElseThrow(), "no row lost");
    }

    @Test
    void theDrainFinishesByItselfOnceKuduHasReplacedTheDeadCopies() throws Exception {
        Drain d = drainAndKill(false);
        assertDrained(d);
        assertTrue(d.waits().stream().anyMatch(w -> w.contains("has a copy on dead " + d.dead())
                        && w.contains("Kudu replaces it after follower_unavailable_considered_failed_sec = 300 s")),
                "moves Kudu refuses wait with the reason and the setting read from the cluster: " + d.waits());
        assertTrue(d.killToEnd() >= 280, "it waited for Kudu's own repair: " + d.killToEnd() + " s from the kill");
        assertTrue(d.log().stream().anyMatch(l -> l.startsWith("Re-planned: " + d.dead() + " stopped answering")), String.join("\n", d.log()));
    }

    @Test
    void replacingTheDeadCopiesNowFinishesWellBeforeKudusFiveMinutes() throws Exception {
        Drain d = drainAndKill(true);
        assertDrained(d);
        assertTrue(d.killToEnd() < 200, () -> "finished " + d.killToEnd() + " s after the kill, not after Kudu's 300 s:\n"
                + String.join("\n", d.log()) + "\nwaits: " + d.waits().subList(Math.max(0, d.waits().size() - 10), d.waits().size()));
        assertTrue(d.log().stream().anyMatch(l -> l.startsWith("Replacing the dead copies now")), String.join("\n", d.log()));
        String audit = Files.readString(dir.resolve("audit.jsonl"));
        assertTrue(audit.contains("tablet change_config remove_replica"), "each drop audited with its command");
    }
}
