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

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A destination tablet server is SIGKILLed in the middle of a drain on a real Kudu cluster: the moves to
 * it are abandoned, Kudu rebuilds its copies (3-4-3), the run re-plans around it and finishes the drain on
 * the other tablet servers; no row is lost. The cluster is started with Kudu's failure timeouts
 * shortened (5 s to declare a tserver dead, 10 s to replace its replicas) so this takes a minute or two.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduDestinationDiesTest {
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

    @Test
    void theDrainFinishesOnTheOtherServersAndNoRowIsLost() throws Exception {
        cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 5, false,
                List.of("--tserver_unresponsive_timeout_ms=5000"), List.of("--follower_unavailable_considered_failed_sec=10"));
        cluster.loadTables(new int[]{24, 20, 16}, 10_000, 3);
        KuduConnector kudu = KuduConnector.local(cluster);
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        ClusterSnapshot before = kudu.snapshot();
        ServerId victim = before.servers().get(0).id();
        Plan plan = new Planner().plan(before, RemoveServers.of(victim), kudu.capabilities());
        ServerId dest = plan.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).skip(3).findFirst().orElseThrow().to();
        String destAddress = before.server(dest).orElseThrow().address();

        AtomicInteger moved = new AtomicInteger();
        AtomicBoolean killed = new AtomicBoolean();
        Set<Integer> runningToDest = ConcurrentHashMap.newKeySet();
        List<String> warnings = new CopyOnWriteArrayList<>();
        List<Plan> replans = new CopyOnWriteArrayList<>();
        ExecutionListener listener = new ExecutionListener() {
            @Override
            public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                if (step.type() != StepType.MOVE_REPLICA) {
                    return;
                }
                if (to == StepState.SUCCEEDED) {
                    moved.incrementAndGet();
                }
                if (step.to().equals(dest)) {
                    if (to == StepState.RUNNING) {
                        runningToDest.add(step.index());
                    } else if (to.isTerminal()) {
                        runningToDest.remove(step.index());
                    }
                }
                if (moved.get() >= 3 && !runningToDest.isEmpty() && replans.isEmpty() && killed.compareAndSet(false, true)) {
                    new Thread(() -> {
                        try {
                            cluster.kill(destAddress);
                        } catch (Exception e) {
                            warnings.add("kill failed: " + e);
                        }
                    }, "kill-destination").start();
                }
            }

            @Override
            public void log(Level level, String message) {
                if (level != Level.INFO) {
                    warnings.add(message);
                }
            }

            @Override
            public void planReplaced(Plan next, String why) {
                replans.add(next);
            }
        };
        Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl")));
        Runs.Run run = runs.start(plan, kudu, "kudu://" + cluster.masterAddresses(), true,
                new ExecutorOptions(5, 3, Duration.ofSeconds(1)), listener, null);
        RunResult result = run.done().get(8, TimeUnit.MINUTES);

        assertTrue(killed.get(), "the destination was killed mid-drain");
        assertEquals(RunState.SUCCEEDED, result.state(), () -> result.failures() + "\n" + String.join("\n", warnings));
        assertTrue(replans.size() >= 1, "the run re-planned around " + dest);
        // Re-planned at once ("stopped answering"), or, when a copy Kudu is already rebuilding leaves no destination
        // for the moment, once the engine's rebuild is done ("died during the run"): either way around the dead server.
        assertTrue(warnings.stream().anyMatch(w -> w.startsWith("Re-planned: " + dest + " stopped answering")
                || w.startsWith("Re-planned: " + dest + " died during the run")), warnings.toString());
        ClusterSnapshot after = kudu.snapshot();
        assertTrue(after.server(victim).isEmpty(), "the drained tserver is unregistered");
        for (Partition p : after.partitions()) {
            assertTrue(!p.isOn(victim) && !p.isOn(dest), p.id() + " still on " + victim + " or the dead " + dest);
            assertEquals(3, p.voterCount(), p.id() + " voters");
        }
        assertNotEquals(Verdict.BLOCK, kudu.health().verdict(), "only the dead, empty tserver is reported");
        assertEquals(rows, kudu.rowCounts().orElseThrow(), "no row lost");
    }
}
