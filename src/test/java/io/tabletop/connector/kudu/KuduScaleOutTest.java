package io.tabletop.connector.kudu;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.planner.Invariants;
import io.tabletop.service.Operation;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scale-out on real Kudu: a tablet server joins a running cluster of 4 (1 master, tables of 8, 6 and 4
 * tablets at RF 3, with rows) through the connector's own "add a server", and the scale-out runs through
 * the same operation the console runs. Rows equal, replica and leader skew at most 1, ksck OK. Every
 * process is stopped after, also when the test fails.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KuduScaleOutTest {
    private LocalKuduCluster cluster;
    private KuduConnector kudu;

    @BeforeAll
    void start() throws Exception {
        cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 4);
        try {
            cluster.loadTables(new int[]{8, 6, 4}, 5_000, 3);
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        kudu = KuduConnector.local(cluster);
    }

    @AfterAll
    void stop() {
        if (kudu != null) {
            kudu.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static int spread(Collection<ServerLoad> loads, ToIntFunction<ServerLoad> f) {
        return loads.stream().mapToInt(f).max().orElse(0) - loads.stream().mapToInt(f).min().orElse(0);
    }

    @Test
    void aTserverAddedToARunningClusterIsFilledEvenly() throws Exception {
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        assertTrue(kudu.canAddServer(), "a local cluster Tabletop started can add a tablet server");
        String address = kudu.addServer();
        ClusterSnapshot before = kudu.snapshot();
        assertEquals(5, before.servers().size());
        ServerId added = before.servers().stream().filter(s -> s.address().equals(address)).findFirst().orElseThrow().id();
        assertEquals(0, before.loads().get(added).replicas(), "the new tablet server holds nothing");

        RemovalService service = new RemovalService();
        Operation op = Operation.scaleOut(List.of(added), List.of(address));
        Operation.Prepared prepared = op.prepare(service, kudu, Operation.Options.defaults());
        assertTrue(prepared.plan() != null, prepared.checks().toString());
        Runs.Run run = op.start(service, prepared, kudu, kudu.name(), new ExecutorOptions(5, 3, Duration.ofSeconds(1)), null, null);
        RunResult result = run.done().get(10, TimeUnit.MINUTES);
        assertEquals(RunState.SUCCEEDED, result.state(), result.failures().toString());

        ClusterSnapshot after = kudu.snapshot();
        Map<ServerId, ServerLoad> loads = after.loads();
        assertTrue(spread(loads.values(), ServerLoad::replicas) <= 1, "replica skew at most 1: " + loads);
        assertTrue(spread(loads.values(), ServerLoad::leaders) <= 1, "leader skew at most 1: " + loads);
        assertEquals(List.of(), Invariants.violations(before, after, List.of()));
        for (Partition p : after.partitions()) {
            assertEquals(3, p.voterCount(), p.id() + " has 3 voters");
        }
        assertEquals(Verdict.PASS, kudu.health().verdict(), kudu.health().toString());
        assertEquals(rows, kudu.rowCounts().orElseThrow(), "no row lost");
        List<CheckResult> post = service.postChecks(prepared.plan(), kudu, prepared.rows());
        assertTrue(post.stream().allMatch(c -> c.verdict() == Verdict.PASS), post.toString());
    }
}
