package io.tabletop.connector.sandbox;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Verdict;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SandboxClusterTest {
    private final SimClock clock = new SimClock();
    private final SandboxCluster cluster = new SandboxCluster(clock, SandboxFixtures.kuduBaseline(), 2.0, 100e6);

    private Partition followerOn(ServerId s) {
        return cluster.snapshot().partitions().stream().filter(p -> p.roleOn(s).orElse(null) == ReplicaRole.FOLLOWER)
                .findFirst().orElseThrow();
    }

    private ServerId absentFrom(Partition p) {
        return cluster.snapshot().servers().stream().map(x -> x.id()).filter(id -> !p.isOn(id)).findFirst().orElseThrow();
    }

    @Test
    void aMoveBuildsALearnerPromotesItThenTheSourceLeaves() throws Exception {
        ServerId from = ServerId.of("ts-1");
        Partition p = followerOn(from);
        ServerId to = absentFrom(p);
        long duration = 2000 + p.sizeBytes() / 100_000; // overhead + size at 100 MB/s, in ms
        CompletableFuture<Void> move = cluster.moveReplica(p.id(), from, to, (f, m) -> { });

        assertEquals(ReplicaRole.LEARNER, part(p.id()).roleOn(to).orElseThrow(), "the new replica starts as a learner");
        assertEquals(3, part(p.id()).voterCount(), "a learner does not vote");
        assertEquals(Verdict.WARN, cluster.health().verdict(), "a partition with a learner is recovering");
        clock.advanceBy(duration / 2);
        assertFalse(move.isDone());
        assertTrue(part(p.id()).isOn(from), "the source stays until the copy is done");
        clock.advanceBy(duration);
        move.get();
        assertEquals(ReplicaRole.FOLLOWER, part(p.id()).roleOn(to).orElseThrow());
        assertFalse(part(p.id()).isOn(from));
        assertEquals(Verdict.PASS, cluster.health().verdict());
    }

    @Test
    void movingALeaderElectsAnotherVoter() throws Exception {
        Partition p = cluster.snapshot().partitions().get(0);
        ServerId leader = p.leader().orElseThrow();
        ServerId to = absentFrom(p);
        CompletableFuture<Void> move = cluster.moveReplica(p.id(), leader, to, (f, m) -> { });
        clock.runUntilIdle();
        move.get();
        Partition after = part(p.id());
        assertFalse(after.isOn(leader));
        assertTrue(after.leader().isPresent());
        assertEquals(3, after.voterCount());
    }

    @Test
    void killingAServerReElectsItsLeadersAmongFollowers() {
        ServerId victim = ServerId.of("ts-2");
        long led = cluster.snapshot().partitions().stream().filter(p -> p.leader().filter(victim::equals).isPresent()).count();
        assertTrue(led > 0);
        cluster.kill(victim);
        ClusterSnapshot s = cluster.snapshot();
        assertEquals(ServerState.DEAD, s.server(victim).orElseThrow().state());
        for (Partition p : s.partitions()) {
            ServerId l = p.leader().orElseThrow(() -> new AssertionError(p.id() + " lost its leader"));
            assertFalse(l.equals(victim));
        }
        assertEquals(Verdict.BLOCK, cluster.health().verdict());
        assertTrue(cluster.health().details().get(0).contains("ts-2"));
    }

    @Test
    void aMoveOntoAStoppedServerIsRefusedWithTheEnginesWords() {
        ServerId from = ServerId.of("ts-1");
        Partition p = followerOn(from);
        ServerId to = absentFrom(p);
        cluster.kill(to);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> cluster.moveReplica(p.id(), from, to, (f, m) -> { }).get());
        ConnectorException ce = assertInstanceOf(ConnectorException.class, e.getCause());
        assertEquals("Illegal state: destination " + to + " is not running", ce.reason());
        assertFalse(ce.isTransient());
    }

    @Test
    void maintenanceIsSetAndClearedAndUnregisterNeedsAStoppedEmptyServer() throws Exception {
        ServerId s = ServerId.of("ts-5");
        CompletableFuture<Void> enter = cluster.enterMaintenance(s);
        clock.runUntilIdle();
        enter.get();
        assertEquals(ServerState.MAINTENANCE, cluster.snapshot().server(s).orElseThrow().state());
        ExecutionException live = assertThrows(ExecutionException.class, () -> cluster.unregister(s).get());
        assertTrue(live.getCause().getMessage().contains("still running"));
        CompletableFuture<Void> stop = cluster.stopServer(s);
        clock.runUntilIdle();
        stop.get();
        ExecutionException full = assertThrows(ExecutionException.class, () -> cluster.unregister(s).get());
        assertTrue(full.getCause().getMessage().contains("still holds 36 replica(s)"), full.getCause().getMessage());
    }

    private Partition part(PartitionId id) {
        return cluster.snapshot().partition(id).orElseThrow();
    }
}
