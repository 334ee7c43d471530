package io.tabletop.service;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A copy arriving on the server to remove (another operator's move in flight, as Kudu shows it: a learner) made
 * the planner's safety net throw, and {@code apply} end in "unexpected error: planner produced an unsafe plan"
 * (seen by KuduTwoOperatorsTest on real Kudu): the pre-check says it as a BLOCK instead.
 */
class PreCheckUnsafePlanTest {
    @TempDir
    Path dir;

    @Test
    void aPlanThePlannerFindsUnsafeIsABlockNotAnUnexpectedError() throws Exception {
        ClusterSnapshot s = SandboxFixtures.kuduBaseline();
        ServerId victim = s.servers().get(2).id();
        Partition p = s.partitions().stream().filter(x -> !x.isOn(victim)).findFirst().orElseThrow();
        List<Replica> arriving = new ArrayList<>(p.replicas());
        arriving.add(new Replica(victim, ReplicaRole.LEARNER));
        ClusterSnapshot moving = s.withReplaced(List.of(p.withReplicas(arriving)), s.servers());
        RemovalService service = new RemovalService(new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl"))));
        try (SandboxConnector c = SandboxConnector.instant(moving)) {
            RemovalService.PreCheck pre = service.preCheck(c, moving, Instant.now(), RemoveServers.of(victim));
            assertNull(pre.plan());
            List<CheckResult> blocks = pre.checks().stream().filter(k -> k.verdict() == Verdict.BLOCK).toList();
            assertTrue(blocks.stream().anyMatch(k -> k.name().equals("Plan") && k.message().startsWith("no safe plan")), pre.checks().toString());
        }
    }

    @Test
    void aPartitionWithoutALeaderIsALeaderlessBlockNamingIt() throws Exception {
        ClusterSnapshot s = SandboxFixtures.kuduBaseline();
        ServerId victim = s.servers().get(2).id();
        Partition p = s.partitions().get(3);
        List<Replica> followers = p.replicas().stream().map(r -> new Replica(r.server(), ReplicaRole.FOLLOWER)).toList();
        ClusterSnapshot leaderless = s.withReplaced(List.of(p.withReplicas(followers)), s.servers());
        RemovalService service = new RemovalService(new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl"))));
        try (SandboxConnector c = SandboxConnector.instant(leaderless)) {
            RemovalService.PreCheck pre = service.preCheck(c, leaderless, Instant.now(), RemoveServers.of(victim));
            assertNull(pre.plan());
            List<CheckResult> blocks = pre.checks().stream().filter(k -> k.verdict() == Verdict.BLOCK).toList();
            assertTrue(blocks.stream().anyMatch(k -> k.name().equals("Leaderless partition")
                    && k.message().startsWith(p.id().value() + " has no leader")), pre.checks().toString());
        }
    }
}
