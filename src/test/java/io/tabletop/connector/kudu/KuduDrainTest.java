package io.tabletop.connector.kudu;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Invariants;
import io.tabletop.planner.PlanRefusedException;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.RemovalService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Kudu 1.17.1 cluster (1 master, 5 tablet servers, 3 tables, 60 tablets at RF 3, with rows):
 * drain one tablet server through the same services the console uses, repair an interrupted leader
 * move, and drain another with adaptive concurrency. Every process is stopped in {@link #stopCluster()}, also when a test fails.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KuduDrainTest {
    static final int[] TABLES = {24, 20, 16};
    static final int ROWS = 20_000;

    private LocalKuduCluster cluster;
    private KuduConnector kudu;
    private Map<String, Long> rowsBefore;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 5);
        cluster.loadTables(TABLES, ROWS, 3);
        kudu = KuduConnector.local(cluster);
        awaitHealthy(kudu);
        rowsBefore = kudu.rowCounts().orElseThrow();
    }

    /**
     * Right after tables are created, a tablet's leader election can leave ksck reporting "active configs
     * disagree with the leader master's" until the next heartbeat: wait (at most 60 s) for ksck to say healthy.
     */
    static void awaitHealthy(KuduConnector kudu) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (kudu.health().verdict() != Verdict.PASS && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(500); // polling a real cluster until it settles
        }
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
            assertTrue(cluster.tservers().stream().noneMatch(LocalKuduCluster.Proc::isAlive), "no tablet server left running");
        }
    }

    @Test
    @Order(1)
    void snapshotShowsTheRealTopology() throws Exception {
        ClusterSnapshot s = kudu.snapshot();
        assertEquals(5, s.servers().size());
        assertEquals(3, s.tables().size());
        assertEquals(60, s.partitions().size());
        assertTrue(s.tables().stream().allMatch(t -> t.replicationFactor() == 3));
        for (Partition p : s.partitions()) {
            assertEquals(3, p.voterCount(), p.id().value());
            assertTrue(p.leader().isPresent());
            assertTrue(p.sizeBytes() != null && p.sizeBytes() > 0, "sizes come from ksck");
        }
        assertEquals(3, rowsBefore.size());
        assertTrue(rowsBefore.values().stream().allMatch(n -> n == ROWS), rowsBefore.toString());
        assertEquals(Verdict.PASS, kudu.health().verdict(), kudu.health().toString());
    }

    @Test
    @Order(2)
    void removingThreeOfFiveIsRefusedNamingTheTables() throws Exception {
        ClusterSnapshot s = kudu.snapshot();
        List<ServerId> three = s.servers().stream().limit(3).map(x -> x.id()).toList();
        PlanRefusedException e = assertThrows(PlanRefusedException.class,
                () -> new Planner().plan(s, new RemoveServers(three, true, 0.85), kudu.capabilities()));
        for (var t : s.tables()) {
            assertTrue(e.getMessage().contains(t.name() + " (RF 3)"), e.getMessage());
        }
        assertTrue(e.getMessage().contains("at most 2"), e.getMessage());
    }

    @Test
    @Order(3)
    void drainOfOneTserverKeepsEveryRowAndLeavesEveryTabletWhole() throws Exception {
        ClusterSnapshot before = kudu.snapshot();
        ServerId victim = before.servers().get(1).id();
        long onVictim = before.partitions().stream().filter(p -> p.isOn(victim)).count();
        RemovalService service = new RemovalService();
        RemovalService.PreCheck pre = service.preCheck(kudu, RemoveServers.of(victim));
        assertTrue(pre.plan() != null, pre.checks().toString());
        assertEquals(onVictim, pre.plan().summary().replicaMoves(), "exactly the replicas on the drained server move");

        List<String> log = Collections.synchronizedList(new ArrayList<>());
        RunResult result = service.execution(pre.plan(), kudu, new ExecutorOptions(5, 3, Duration.ofSeconds(1)),
                new ExecutionListener() {
                    @Override
                    public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                        if (to.isTerminal()) {
                            log.add(step.describe() + " " + to + " " + message);
                        }
                    }
                }, null).start().get(10, TimeUnit.MINUTES);

        assertEquals(RunState.SUCCEEDED, result.state(), () -> String.join("\n", log));
        ClusterSnapshot after = kudu.snapshot();
        assertTrue(after.server(victim).isEmpty(), "the drained tserver is unregistered");
        assertEquals(List.of(), Invariants.violations(before, after, List.of(victim)));
        for (Partition p : after.partitions()) {
            assertEquals(3, p.voterCount(), p.id() + " has 3 voters");
            assertTrue(p.replicas().stream().noneMatch(r -> r.role() == ReplicaRole.LEARNER));
        }
        assertEquals(Verdict.PASS, kudu.health().verdict(), "ksck OK after unregister: " + kudu.health());
        assertEquals(rowsBefore, kudu.rowCounts().orElseThrow(), "no row lost");
        List<CheckResult> post = service.postChecks(pre.plan(), kudu);
        assertTrue(post.stream().allMatch(c -> c.verdict() == Verdict.PASS), post.toString());
        var loads = after.loads().values();
        int min = loads.stream().mapToInt(l -> l.replicas()).min().orElseThrow();
        int max = loads.stream().mapToInt(l -> l.replicas()).max().orElseThrow();
        assertTrue(max - min <= 1, "replicas per tserver within one: " + loads);
    }

    @Test
    @Order(4)
    void anInterruptedLeaderMoveLeavesFourVotersWhichTheHealthGateRepairs() throws Exception {
        boolean reproduced = false;
        for (int attempt = 0; attempt < 4 && !reproduced; attempt++) {
            ClusterSnapshot s = kudu.snapshot();
            Partition p = s.partitions().get(attempt * 7);
            ServerId leader = p.leader().orElseThrow();
            ServerId dest = s.servers().stream().map(x -> x.id()).filter(id -> !p.isOn(id)).findFirst().orElseThrow();
            Process[] cliProcess = new Process[1];
            Thread mover = new Thread(() -> {
                try {
                    kudu.cli().run(120_000, pr -> cliProcess[0] = pr, "tablet", "change_config", "move_replica", "@MASTERS",
                            p.id().value(), leader.value(), dest.value());
                } catch (Exception ignored) {
                    // killed on purpose
                }
            }, "test-interrupted-move");
            mover.start();
            // Kill the CLI as soon as the destination shows up in the config, before it can step the leader down.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline) {
                Partition now = kudu.snapshot().partition(p.id()).orElseThrow();
                if (now.isOn(dest)) {
                    break;
                }
            }
            if (cliProcess[0] != null) {
                cliProcess[0].destroyForcibly();
            }
            mover.join(30_000);
            // The master promotes the new replica by itself; the old leader, marked REPLACE, cannot evict itself.
            long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < settle) {
                Partition now = kudu.snapshot().partition(p.id()).orElseThrow();
                if (now.voterCount() == 4 || (!now.isOn(leader) && now.voterCount() == 3)) {
                    reproduced = now.voterCount() == 4;
                    break;
                }
            }
        }
        assertTrue(reproduced, "could not reproduce a tablet with 4 voters in 4 attempts");
        // Once the config change settles, ksck calls the tablet healthy (research/kudu.md 5.3).
        var health = kudu.health();
        long settled = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (health.verdict() == Verdict.BLOCK && System.nanoTime() < settled) {
            health = kudu.health();
        }
        assertEquals(Verdict.WARN, health.verdict(), "ksck alone says OK; Tabletop compares voters with RF: " + health);
        assertTrue(health.details().stream().anyMatch(d -> d.contains("has 4 voters, more than its replication factor 3")), health.toString());

        kudu.execute(Step.gate(0, null, "test"), (f, m) -> { });

        assertEquals(Verdict.PASS, kudu.health().verdict(), kudu.health().toString());
        assertTrue(kudu.snapshot().partitions().stream().allMatch(x -> x.voterCount() == 3));
        assertEquals(rowsBefore, kudu.rowCounts().orElseThrow());
    }

    @Test
    @Order(5)
    void anAdaptiveDrainFollowsTheClusterAndKeepsEveryRow() throws Exception {
        ClusterSnapshot before = kudu.snapshot();
        ServerId victim = before.servers().get(0).id();
        long onVictim = before.partitions().stream().filter(p -> p.isOn(victim)).count();
        RemovalService service = new RemovalService();
        RemovalService.PreCheck pre = service.preCheck(kudu, RemoveServers.of(victim));
        assertTrue(pre.plan() != null, pre.checks().toString());
        List<String> changes = Collections.synchronizedList(new ArrayList<>());
        List<Integer> startedUnder = Collections.synchronizedList(new ArrayList<>());
        RunResult result = service.execution(pre.plan(), kudu, new ExecutorOptions(5, 3, Duration.ofSeconds(1)).withCeiling(10),
                new ExecutionListener() {
                    @Override
                    public void concurrencyChanged(int from, int to, String reason) {
                        changes.add(from + " → " + to + ": " + reason);
                    }

                    @Override
                    public void moveTimed(Step step, double seconds, int concurrency) {
                        startedUnder.add(concurrency);
                    }
                }, null).start().get(10, TimeUnit.MINUTES);

        assertEquals(RunState.SUCCEEDED, result.state(), () -> result.failures() + " " + changes);
        assertEquals(onVictim, startedUnder.size(), "every replica of the drained tserver moved, each timed");
        assertTrue(startedUnder.stream().allMatch(c -> c >= 1 && c <= 10), "never above the ceiling: " + startedUnder + " " + changes);
        ClusterSnapshot after = kudu.snapshot();
        assertTrue(after.server(victim).isEmpty(), "the drained tserver is unregistered");
        assertEquals(List.of(), Invariants.violations(before, after, List.of(victim)));
        assertTrue(after.partitions().stream().allMatch(p -> p.voterCount() == 3 && p.leader().isPresent()));
        assertEquals(Verdict.PASS, kudu.health().verdict(), "ksck OK: " + kudu.health());
        assertEquals(rowsBefore, kudu.rowCounts().orElseThrow(), "no row lost");
    }

    @Test
    @Order(6)
    void ksckFailingIsABlockWithKsckOwnWords() throws Exception {
        String rpc = kudu.snapshot().servers().get(0).address();
        cluster.kill(rpc);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        var h = kudu.health();
        while (h.details().stream().noneMatch(d -> d.contains(rpc)) && System.nanoTime() < deadline) {
            h = kudu.health();
        }
        assertEquals(Verdict.BLOCK, h.verdict(), h.toString());
        assertTrue(h.summary().startsWith("ksck FAILED"), h.summary());
        final var report = h;
        assertTrue(report.details().stream().anyMatch(d -> d.contains(rpc) && d.contains("UNAVAILABLE")), report.toString());
        RemovalService.PreCheck pre = new RemovalService().preCheck(kudu, RemoveServers.of(kudu.snapshot().servers().get(0).id()));
        CheckResult health = pre.checks().get(0);
        assertEquals(Verdict.BLOCK, health.verdict());
        assertTrue(health.message().contains("ksck FAILED"), health.message());
    }
}
