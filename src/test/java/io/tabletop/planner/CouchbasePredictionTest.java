package io.tabletop.planner;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;
import io.tabletop.domain.Verdict;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Couchbase prediction against the three tables of seed 001 (Couchbase docs, "Removal"): four data
 * nodes, one bucket of 31,591 items with two replicas; then node 4 removed; then nodes 3 and 4. The
 * snapshot is built from Table 1's active items per node (1,024 vBuckets, each node active for 256, its
 * replicas on the next two nodes); everything else is predicted.
 */
class CouchbasePredictionTest {
    private static final long[] ACTIVE_ITEMS = {7_932, 7_895, 7_876, 7_888};
    private final Planner planner = new Planner();
    private final EngineCapabilities couchbase = EngineCapabilities.couchbase();

    static ClusterSnapshot seed001() {
        List<Server> servers = new ArrayList<>();
        for (int n = 1; n <= 4; n++) {
            servers.add(new Server(ServerId.of("node" + n), "127.0.1." + n + ":8091", null, ServerState.LIVE));
        }
        Table bucket = new Table(TableId.of("travel"), "travel-sample", 3);
        List<Partition> vbs = new ArrayList<>();
        for (int v = 0; v < 1024; v++) {
            int a = v % 4;
            int k = v / 4; // this vBucket's place among node a's 256 actives
            long items = ACTIVE_ITEMS[a] / 256 + (k < ACTIVE_ITEMS[a] % 256 ? 1 : 0);
            List<Replica> chain = List.of(new Replica(servers.get(a).id(), ReplicaRole.LEADER),
                    new Replica(servers.get((a + 1) % 4).id(), ReplicaRole.FOLLOWER),
                    new Replica(servers.get((a + 2) % 4).id(), ReplicaRole.FOLLOWER));
            vbs.add(new Partition(PartitionId.of("vb" + v), bucket.id(), items * 4_000, items, chain));
        }
        return new ClusterSnapshot(Engine.COUCHBASE, "seed-001", null, servers, List.of(bucket), vbs);
    }

    /** Table 1 (before), the doc's values: active items, replica items per node; totals. */
    private static final long[][] TABLE1 = {{7_932, 15_800}, {7_895, 15_800}, {7_876, 15_700}, {7_888, 15_700}};
    private static final long[][] TABLE2 = {{10_497, 21_000}, {10_500, 21_000}, {10_400, 21_000}};
    private static final long[][] TABLE3 = {{15_897, 15_700}, {15_700, 15_800}};

    @Test
    void table1IsTheStartingPoint() throws Exception {
        BucketForecast f = forecast("node4");
        for (int n = 0; n < 4; n++) {
            BucketForecast.Node node = f.nodes().get(n);
            assertWithin(TABLE1[n][0], node.activeItemsBefore(), 0.01, "table 1 node " + (n + 1) + " active");
            assertWithin(TABLE1[n][1], node.replicaItemsBefore(), 0.01, "table 1 node " + (n + 1) + " replica");
            assertEquals(256, node.activeBefore());
            assertEquals(512, node.replicasBefore());
        }
        assertWithin(63_000, f.replicaItemsBefore(), 0.01, "table 1 replica total");
    }

    @Test
    void removingNode4ReproducesTable2() throws Exception {
        BucketForecast f = forecast("node4");
        assertEquals(2, f.replicasKept(), "three nodes still hold two replicas");
        for (int n = 0; n < 3; n++) {
            BucketForecast.Node node = f.nodes().get(n);
            assertWithin(TABLE2[n][0], node.activeItemsAfter(), 0.01, "table 2 node " + (n + 1) + " active");
            assertWithin(TABLE2[n][1], node.replicaItemsAfter(), 0.01, "table 2 node " + (n + 1) + " replica");
            assertTrue(node.activeAfter() == 341 || node.activeAfter() == 342, "actives ⌊1024/3⌋ or one more: " + node.activeAfter());
            assertTrue(node.replicasAfter() == 682 || node.replicasAfter() == 683, "replicas ⌊2048/3⌋ or one more: " + node.replicasAfter());
        }
        BucketForecast.Node gone = f.nodes().get(3);
        assertTrue(gone.leaves());
        assertEquals(0, gone.activeAfter() + gone.replicasAfter());
        assertEquals(31_591, f.activeItemsAfter(), "every item keeps its active copy");
        assertWithin(63_000, f.replicaItemsAfter(), 0.01, "table 2 replica total");
        // Node 4's 256 actives are taken over by nodes that hold their replicas where they have room, and
        // its 768 copies (256 active + 512 replica) are rebuilt on the three others.
        assertEquals(256, f.takeovers());
        assertEquals(768, f.copiesToBuild());
    }

    @Test
    void removingNodes3And4ReproducesTable3WithOneReplicaKept() throws Exception {
        Plan plan = planner.plan(seed001(), new RemoveServers(List.of(ServerId.of("node3"), ServerId.of("node4")), false, 0.85), couchbase);
        BucketForecast f = plan.forecast().get(0);
        assertEquals(1, f.replicasKept(), "two nodes keep one replica (R replicas need R+1 nodes)");
        // One rebalance ejects both nodes: the step names the whole set, and both count for concurrency.
        assertEquals(1, plan.steps().size());
        assertEquals(List.of(ServerId.of("node3"), ServerId.of("node4")), plan.steps().get(0).servers());
        assertEquals(List.of(ServerId.of("node3"), ServerId.of("node4")), plan.steps().get(0).touchedServers());
        assertEquals("Engine rebalance emptying node3, node4", plan.steps().get(0).describe());
        for (int n = 0; n < 2; n++) {
            BucketForecast.Node node = f.nodes().get(n);
            assertWithin(TABLE3[n][0], node.activeItemsAfter(), 0.01, "table 3 node " + (n + 1) + " active");
            assertWithin(TABLE3[n][1], node.replicaItemsAfter(), 0.01, "table 3 node " + (n + 1) + " replica");
            assertEquals(512, node.activeAfter());
            assertEquals(512, node.replicasAfter());
        }
        assertWithin(31_500, f.replicaItemsAfter(), 0.01, "table 3 replica total: about half of before");
        CheckResult replicas = plan.checks().stream().filter(c -> c.name().equals("Replicas")).findFirst().orElseThrow();
        assertEquals(Verdict.WARN, replicas.verdict());
        assertTrue(replicas.message().contains("keeps 1 of its 2 replica(s)"), replicas.message());
        assertEquals(List.of(StepType.ENGINE_REBALANCE), plan.steps().stream().map(s -> s.type()).toList(), "one engine step");
        assertEquals(2, plan.after().servers().size());
    }

    @Test
    void theLastDataNodeCannotLeave() {
        List<ServerId> all = seed001().servers().stream().map(Server::id).toList();
        PlanRefusedException e = assertThrows(PlanRefusedException.class,
                () -> planner.plan(seed001(), new RemoveServers(all, false, 0.85), couchbase));
        assertTrue(e.getMessage().contains("last data node"), e.getMessage());
    }

    @Test
    void serverGroupsCapTheReplicasKept() {
        var groups = new java.util.HashMap<ServerId, String>();
        List<ServerId> nodes = List.of(ServerId.of("a"), ServerId.of("b"), ServerId.of("c"), ServerId.of("d"));
        groups.put(nodes.get(0), "g1");
        groups.put(nodes.get(1), "g1");
        groups.put(nodes.get(2), "g1");
        groups.put(nodes.get(3), "g2");
        // 4 nodes would keep 3 replicas, but a copy never shares a group with its active: 4 − 3 = 1.
        assertEquals(1, EngineRebalance.replicasKept(3, nodes, groups));
        assertEquals(2, EngineRebalance.replicasKept(2, nodes.subList(0, 3), java.util.Map.of()));
    }

    private BucketForecast forecast(String remove) throws PlanRefusedException {
        Plan plan = planner.plan(seed001(), new RemoveServers(List.of(ServerId.of(remove)), false, 0.85), couchbase);
        assertEquals(1, plan.forecast().size());
        return plan.forecast().get(0);
    }

    private static void assertWithin(long expected, long actual, double tolerance, String what) {
        double off = Math.abs(actual - expected) / (double) expected;
        assertTrue(off <= tolerance, what + ": predicted " + actual + ", the doc says " + expected
                + String.format(java.util.Locale.ROOT, " (%.2f%% off)", off * 100));
    }
}
