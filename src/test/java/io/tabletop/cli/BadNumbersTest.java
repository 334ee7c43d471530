package io.tabletop.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.planner.PlanRefusedException;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.SnapshotJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static io.tabletop.cli.TabletopCliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Numbers a snapshot cannot hold, and files that are not snapshots, are refused in one line each. */
class BadNumbersTest {
    @TempDir
    Path dir;

    /** The baseline sandbox as snapshot JSON, edited. */
    private Path baselineWith(String name, Consumer<ObjectNode> edit) throws Exception {
        ObjectNode root = SnapshotJson.toTree(SandboxFixtures.kuduBaseline());
        edit.accept(root);
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, new ObjectMapper().writeValueAsString(root));
        return f;
    }

    private static void assertOneLine(TabletopCliTest.Result r, String expectedStart) {
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().startsWith("tabletop: " + expectedStart), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void sizesOfTwoToTheSixtyThreeAreRefusedNotAddedUpNegative() throws Exception {
        Path f = baselineWith("huge", root -> {
            ArrayNode parts = (ArrayNode) root.get("partitions");
            ((ObjectNode) parts.get(0)).put("sizeBytes", Long.MAX_VALUE);
            ((ObjectNode) parts.get(1)).put("sizeBytes", Long.MAX_VALUE);
        });
        TabletopCliTest.Result r = run("plan", "--snapshot", f.toString(), "--remove", "ts-2");
        assertOneLine(r, f + ": partition ");
        assertTrue(r.err().contains("sizeBytes must be 0 to 2^53, was 9223372036854775807"), r.err());
        Path rows = baselineWith("negative-rows", root -> ((ObjectNode) root.get("partitions").get(0)).put("rows", -1));
        assertTrue(run("plan", "--snapshot", rows.toString(), "--remove", "ts-2").err().contains("rows must be 0 to 2^53, was -1"));
    }

    @Test
    void sizesWhoseTotalWouldOverflowAreABlockNotANegativeTotal() throws Exception {
        // every partition at the bound: 1,200 copies of 2^53 bytes add up beyond a long
        ClusterSnapshot large = SandboxFixtures.large();
        ClusterSnapshot huge = large.withPartitions(large.partitions().stream()
                .map(p -> new Partition(p.id(), p.table(), 1L << 53, p.rows(), p.replicas())).toList());
        ServerId first = huge.servers().get(0).id();
        PlanRefusedException e = assertThrows(PlanRefusedException.class,
                () -> new Planner().plan(huge, RemoveServers.of(first), EngineCapabilities.kudu()));
        assertTrue(e.getMessage().startsWith("Sizes: the partitions' copies add up to more than 2^61 bytes"), e.getMessage());
    }

    @Test
    void aPartitionWithoutALeaderIsALeaderlessPartitionBlockNotAnUnexpectedError() throws Exception {
        for (String role : List.of("FOLLOWER", "LEARNER")) {
            Path f = baselineWith("leaderless-" + role, root -> {
                ArrayNode replicas = (ArrayNode) root.get("partitions").get(3).get("replicas");
                if (role.equals("LEARNER")) {
                    while (replicas.size() > 1) {
                        replicas.remove(replicas.size() - 1);
                    }
                }
                replicas.forEach(r -> ((ObjectNode) r).put("role", role));
            });
            String id = new ObjectMapper().readTree(f.toFile()).at("/partitions/3/id").asText();
            TabletopCliTest.Result r = run("plan", "--snapshot", f.toString(), "--remove", "ts-2");
            assertOneLine(r, "Leaderless partition: " + id + " has no leader");
            assertTrue(!r.err().contains("unexpected error"), r.err());
        }
    }

    @Test
    void aPlanThePlannerFindsUnsafeIsARefusalInOneLine() throws Exception {
        ClusterSnapshot s = SandboxFixtures.kuduBaseline();
        ServerId victim = s.servers().get(2).id();
        Partition p = s.partitions().stream().filter(x -> !x.isOn(victim)).findFirst().orElseThrow();
        List<io.tabletop.domain.Replica> arriving = new java.util.ArrayList<>(p.replicas());
        arriving.add(new io.tabletop.domain.Replica(victim, io.tabletop.domain.ReplicaRole.LEARNER));
        Path f = dir.resolve("moving.json");
        Files.writeString(f, new ObjectMapper().writeValueAsString(SnapshotJson.toTree(
                s.withReplaced(List.of(p.withReplicas(arriving)), s.servers()))));
        TabletopCliTest.Result r = run("plan", "--snapshot", f.toString(), "--remove", victim.value());
        assertOneLine(r, "Plan: no safe plan from this snapshot: ");
    }

    @Test
    void aPartitionWithNoReplicaIsALostPartitionBlock() throws Exception {
        Path f = baselineWith("lost", root -> ((ObjectNode) root.get("partitions").get(3)).putArray("replicas"));
        String id = new ObjectMapper().readTree(f.toFile()).at("/partitions/3/id").asText();
        TabletopCliTest.Result r = run("plan", "--snapshot", f.toString(), "--remove", "ts-2");
        assertOneLine(r, "Lost partition: " + id + " has no replica");
    }

    @Test
    void anEmptyObjectIsNotASnapshotNorARestoreTarget() throws Exception {
        Path empty = dir.resolve("empty.json");
        Files.writeString(empty, "{}");
        assertOneLine(run("plan", "--snapshot", empty.toString(), "--remove", "ts-2"), empty + ": not a snapshot: no servers");
        Path good = baselineWith("good", root -> {
        });
        assertOneLine(run("plan", "--snapshot", good.toString(), "--restore-to", empty.toString()),
                empty + ": not a snapshot: no servers");
        Path other = dir.resolve("other.json");
        Files.writeString(other, "{\"name\": \"a package.json, say\", \"servers\": []}");
        assertOneLine(run("plan", "--snapshot", other.toString(), "--rebalance"), other + ": not a snapshot: no servers");
        JsonNode ok = new ObjectMapper().readTree(run("plan", "--snapshot", good.toString(), "--remove", "ts-2", "--format", "json").out());
        assertEquals("REMOVE_SERVERS", ok.at("/goal/type").asText(), "the unedited baseline still plans");
    }
}
