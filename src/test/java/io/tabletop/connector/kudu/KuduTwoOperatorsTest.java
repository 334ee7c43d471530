package io.tabletop.connector.kudu;

import io.tabletop.cli.ChildRun;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two operators on one real Kudu cluster (5 tablet servers, RF 3), each on a machine of its own (a data directory
 * of its own, so this machine's cluster lock does not stand between them): while operator A drains one tablet
 * server in this JVM, operator B's {@code apply --remove} of another, in a child JVM, is refused by the
 * pre-check, which names A's server in maintenance mode; B changes nothing, and A's drain ends SUCCEEDED.
 * Five servers, not four: with four, the planner already refuses B (a server in maintenance is not live, so
 * only two would remain for RF 3), and the check for other operations would not be what stops it.
 * Every process is stopped, also when the test fails: the child in {@link #stopChild()}, the cluster in
 * {@link #stopCluster()}.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KuduTwoOperatorsTest {
    @TempDir
    Path dir;

    private LocalKuduCluster cluster;
    private KuduConnector kudu;
    private Process child;
    private Runs.Run runA;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 5);
        cluster.loadTables(new int[]{12, 10, 8}, 10_000, 3);
        kudu = KuduConnector.local(cluster);
    }

    @AfterEach
    void stopChild() throws Exception {
        if (child != null && child.isAlive()) {
            List<ProcessHandle> kids = child.descendants().toList();
            child.destroyForcibly();
            kids.forEach(ProcessHandle::destroyForcibly);
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    void stopCluster() throws Exception {
        try {
            if (runA != null && !runA.done().isDone()) {
                runA.cancel();
                runA.done().handle((r, e) -> r).get(60, TimeUnit.SECONDS);
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    /** The connection spec an operator on another machine types: the masters and their web UIs, nothing recorded locally. */
    private String spec() {
        return "kudu://" + cluster.masterAddresses() + "?web=" + String.join(",", cluster.masterWebAddresses());
    }

    private static Set<PartitionId> partitionsOn(ClusterSnapshot s, Server server) {
        return s.partitions().stream().filter(p -> p.isOn(server.id())).map(Partition::id).collect(Collectors.toSet());
    }

    @Test
    void aSecondApplyOnAnotherMachineIsRefusedNamingTheServerInMaintenance() throws Exception {
        ClusterSnapshot before = kudu.snapshot();
        assertEquals(5, before.servers().size());
        Server a = before.servers().get(1);
        Server b = before.servers().get(2);

        // Operator A, on this machine: a drain of tserver A, journaled and locked in A's own data directory.
        Path homeA = dir.resolve("operator-a");
        Runs runsA = new Runs(homeA.resolve("runs"), new AuditLog(homeA.resolve("audit.jsonl")));
        RemovalService serviceA = new RemovalService(runsA);
        RemovalService.PreCheck pre = serviceA.preCheck(kudu, RemoveServers.of(a.id()));
        assertTrue(pre.plan() != null, pre.checks().toString());
        CountDownLatch inMaintenance = new CountDownLatch(1);
        CountDownLatch moving = new CountDownLatch(1);
        List<String> logA = Collections.synchronizedList(new ArrayList<>());
        runA = runsA.start(pre.plan(), kudu, spec(), false, new ExecutorOptions(2, 3, Duration.ofSeconds(1)), new ExecutionListener() {
            @Override
            public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                if (to.isTerminal()) {
                    logA.add(step.describe() + " " + to + " " + message);
                }
                if (step.type() == StepType.ENTER_MAINTENANCE && to == StepState.SUCCEEDED) {
                    inMaintenance.countDown();
                }
                if (step.type() == StepType.MOVE_REPLICA && to == StepState.RUNNING) {
                    moving.countDown();
                }
            }
        }, null);
        assertTrue(inMaintenance.await(2, TimeUnit.MINUTES), () -> "A never entered maintenance: " + String.join("\n", logA));
        assertTrue(moving.await(2, TimeUnit.MINUTES), () -> "A never started a move: " + String.join("\n", logA));
        ClusterSnapshot duringA = kudu.snapshot();
        assertEquals(ServerState.MAINTENANCE, duringA.server(a.id()).orElseThrow().state(), "A's server is in maintenance mode");
        Set<PartitionId> onB = partitionsOn(duringA, b);

        // Operator B, "on another machine": a child JVM with a data directory of its own.
        Path homeB = dir.resolve("operator-b");
        Path out = dir.resolve("b.out");
        child = ChildRun.start(out, homeB, List.of("-Dtabletop.kudu.home=" + cluster.binary().home().toAbsolutePath(),
                        "-Dtabletop.locks=" + homeB.resolve("machine-locks").toAbsolutePath()), // another machine's locks
                "apply", "--connect", spec(), "--remove", b.address(), "--yes");
        assertTrue(child.waitFor(2, TimeUnit.MINUTES), () -> "B's apply did not end within 2 minutes: " + read(out));
        boolean aStillRunning = !runA.done().isDone();
        String text = read(out);
        assertNotEquals(0, child.exitValue(), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("BLOCK") && l.contains("Other operations")
                        && (l.contains(a.id().value()) || l.contains(a.address())) && l.contains("maintenance mode")),
                "a BLOCK names A's server in maintenance mode:\n" + text);
        assertFalse(text.contains("(journal"), "B started no run:\n" + text);
        assertFalse(text.lines().anyMatch(l -> l.startsWith("BLOCK") && l.contains("Replication factor")),
                "three live servers would remain for RF 3: the plan alone would not refuse B:\n" + text);
        assertTrue(aStillRunning, "A's drain was still going when B was refused (else this proves nothing): " + String.join("\n", logA));

        // B changed nothing: its server is not in maintenance, and every replica that was on it is still there.
        ClusterSnapshot afterB = kudu.snapshot();
        Server bNow = afterB.server(b.id()).orElseThrow();
        assertNotEquals(ServerState.MAINTENANCE, bNow.state(), "B's server is not in maintenance");
        Set<PartitionId> missing = onB.stream().filter(p -> !partitionsOn(afterB, b).contains(p)).collect(Collectors.toSet());
        assertEquals(Set.of(), missing, "no replica moved off B's server");
        if (Files.isDirectory(homeB.resolve("runs"))) {
            try (var runs = Files.list(homeB.resolve("runs"))) {
                assertEquals(List.of(), runs.toList(), "B journaled no run");
            }
        }

        // A's own maintenance did not block A: it ends SUCCEEDED.
        RunResult result = runA.done().get(10, TimeUnit.MINUTES);
        assertEquals(RunState.SUCCEEDED, result.state(), () -> result.failures() + "\n" + String.join("\n", logA));
        ClusterSnapshot end = kudu.snapshot();
        assertTrue(end.server(a.id()).isEmpty(), "A's tserver is unregistered");
        assertEquals(ServerState.LIVE, end.server(b.id()).orElseThrow().state(), "B's tserver is untouched");
    }

    /** B's output so far ("" before it wrote any). */
    private static String read(Path out) {
        try {
            return Files.exists(out) ? Files.readString(out) : "";
        } catch (java.io.IOException e) {
            return "(cannot read " + out + ": " + e + ")";
        }
    }
}
