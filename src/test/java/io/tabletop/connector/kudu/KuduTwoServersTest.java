package io.tabletop.connector.kudu;

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
import io.tabletop.planner.Invariants;
import io.tabletop.planner.Plan;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.RemovalService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two tservers out of a real cluster in one plan: one after the other, ksck between. */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KuduTwoServersTest {
    private LocalKuduCluster cluster;
    private KuduConnector kudu;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 5);
        cluster.loadTables(new int[]{12, 10, 8}, 10_000, 3);
        kudu = KuduConnector.local(cluster);
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void twoTserversAreDrainedOneAfterTheOtherWithKsckBetween() throws Exception {
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        ClusterSnapshot before = kudu.snapshot();
        List<ServerId> two = List.of(before.servers().get(3).id(), before.servers().get(0).id());
        RemovalService service = new RemovalService();
        RemovalService.PreCheck pre = service.preCheck(kudu, new RemoveServers(two, true, 0.85));
        Plan plan = pre.plan();
        assertTrue(plan != null, pre.checks().toString());

        List<Step> order = Collections.synchronizedList(new ArrayList<>());
        RunResult result = service.execution(plan, kudu, new ExecutorOptions(5, 3, Duration.ofSeconds(1)), new ExecutionListener() {
            @Override
            public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                if (to == StepState.SUCCEEDED) {
                    order.add(step);
                }
            }
        }, null).start().get(10, TimeUnit.MINUTES);
        assertEquals(RunState.SUCCEEDED, result.state(), result.failures().toString());

        // Everything of the first server's phase finished before anything of the second's, with a gate between.
        int lastOfFirst = -1;
        int firstOfSecond = Integer.MAX_VALUE;
        for (int i = 0; i < order.size(); i++) {
            if (order.get(i).phase() == 0) {
                lastOfFirst = i;
            } else if (order.get(i).phase() == 1) {
                firstOfSecond = Math.min(firstOfSecond, i);
            }
        }
        assertTrue(lastOfFirst < firstOfSecond, "phase 1 started before phase 0 finished");
        assertEquals(StepType.HEALTH_GATE, order.get(lastOfFirst).type(), "the first phase ends on a ksck gate");
        assertEquals(StepType.UNREGISTER_SERVER, order.get(lastOfFirst - 1).type());

        ClusterSnapshot after = kudu.snapshot();
        assertEquals(3, after.servers().size());
        assertEquals(List.of(), Invariants.violations(before, after, two));
        for (Partition p : after.partitions()) {
            assertEquals(3, p.voterCount());
        }
        assertEquals(Verdict.PASS, kudu.health().verdict(), kudu.health().toString());
        assertEquals(rows, kudu.rowCounts().orElseThrow());
    }
}
