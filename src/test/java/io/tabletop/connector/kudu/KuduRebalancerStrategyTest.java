package io.tabletop.connector.kudu;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.RemovalService;
import org.junit.jupiter.api.Test;
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

/** The alternative strategy: Kudu's own rebalancer empties the tserver, between the same gates. */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduRebalancerStrategyTest {
    @Test
    void kudusRebalancerDrainsTheServerAndItsOutputReachesTheRunLog() throws Exception {
        try (LocalKuduCluster cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 4)) {
            cluster.loadTables(new int[]{8, 6}, 5_000, 3);
            KuduConnector kudu = KuduConnector.local(cluster);
            Map<String, Long> rows = kudu.rowCounts().orElseThrow();
            ClusterSnapshot before = kudu.snapshot();
            ServerId victim = before.servers().get(2).id();
            RemovalService service = new RemovalService();
            RemovalService.PreCheck pre = service.preCheck(kudu,
                    new RemoveServers(List.of(victim), true, 0.85, RemoveServers.Strategy.ENGINE));
            assertTrue(pre.plan() != null, pre.checks().toString());
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            RunResult r = service.execution(pre.plan(), kudu, new ExecutorOptions(5, 3, Duration.ofSeconds(1)), new ExecutionListener() {
                @Override
                public void log(Level level, String message) {
                    log.add(message);
                }
            }, null).start().get(10, TimeUnit.MINUTES);

            assertEquals(RunState.SUCCEEDED, r.state(), r.failures() + "\n" + String.join("\n", log));
            assertTrue(log.stream().anyMatch(l -> l.contains("rebalancing is complete")), String.join("\n", log));
            ClusterSnapshot after = kudu.snapshot();
            assertTrue(after.server(victim).isEmpty());
            for (Partition p : after.partitions()) {
                assertEquals(3, p.voterCount());
            }
            assertEquals(Verdict.PASS, kudu.health().verdict());
            assertEquals(rows, kudu.rowCounts().orElseThrow());
            List<CheckResult> post = service.postChecks(pre.plan(), kudu);
            assertTrue(post.stream().allMatch(c -> c.verdict() == Verdict.PASS), post.toString());
        }
    }
}
