package io.tabletop.connector.kudu;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.Verdict;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Moves and leader transfers as calls to the tablet leader's consensus service (no {@code kudu} process per
 * move), on a real cluster: the audit names the call, a follower's and a leader's copy move, a transfer
 * lands, and a plan the cluster has outrun is named drift, with the config left as it was.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KuduConsensusMovesTest {
    private LocalKuduCluster cluster;
    private KuduConnector kudu;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 5);
        cluster.loadTables(new int[]{4}, 4_000, 3);
        kudu = KuduConnector.local(cluster);
    }

    @AfterAll
    void stopCluster() {
        if (kudu != null) {
            kudu.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private Partition partition(ClusterSnapshot s, Partition p) {
        return s.partitions().stream().filter(q -> q.id().equals(p.id())).findFirst().orElseThrow();
    }

    private static ServerId notOn(ClusterSnapshot s, Partition p) {
        return s.servers().stream().map(x -> x.id()).filter(id -> !p.isOn(id)).findFirst().orElseThrow();
    }

    @Test
    void theAuditNamesTheCallAndTheCliConnectorKeepsTheCli() throws Exception {
        ClusterSnapshot s = kudu.snapshot();
        Partition p = s.partitions().get(0);
        ServerId from = p.followers().get(0);
        Step move = Step.move(0, p.id(), p.table(), from, notOn(s, p), 0, "").withIndex(0);
        assertTrue(kudu.byRpc(), "a plain local cluster answers GetConsensusState");
        String cmd = kudu.command(move);
        assertTrue(cmd.startsWith("kudu rpc ConsensusService.BulkChangeConfig tablet_id=" + p.id().value()), cmd);
        assertTrue(cmd.contains("MODIFY_PEER " + from.value() + " replace=true") && cmd.contains("ADD_PEER " + move.to().value() + " NON_VOTER promote=true"), cmd);

        KuduConnector viaCli = KuduConnector.local(cluster);
        viaCli.movesThroughCli();
        assertFalse(viaCli.byRpc());
        assertTrue(viaCli.command(move).startsWith("kudu tablet change_config move_replica "), viaCli.command(move));
        viaCli.close();
    }

    @Test
    void aPreCheckDecidesCallsOrCliBeforeAnyStepAndAClosedConnectorMakesNoClient() throws Exception {
        KuduConnector fresh = KuduConnector.local(cluster);
        try {
            assertFalse(fresh.decided().isDone(), "nothing is decided before it is asked for");
            fresh.prepareSteps(); // what a pre-check does: returns at once, decided on a thread of its own
            assertTrue(fresh.decided().get(60, java.util.concurrent.TimeUnit.SECONDS), "a plain local cluster answers GetConsensusState");
            assertTrue(fresh.byRpc());
        } finally {
            fresh.close();
        }
        // a probe that asks for the client after close() gets none: no client threads are left behind
        KuduConsensus closed = new KuduConsensus(cluster.masterAddresses(), null);
        closed.close();
        Partition p = kudu.snapshot().partitions().get(0);
        ServerId leader = p.leader().orElseThrow();
        ConnectorException e = assertThrows(ConnectorException.class, () -> closed.state(leader.value(), "127.0.0.1:1", p.id().value()));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void aFollowersCopyThenALeadersCopyMoveAndTheRowsStay() throws Exception {
        Map<String, Long> rows = kudu.rowCounts().orElseThrow();
        ClusterSnapshot s = kudu.snapshot();
        Partition p = s.partitions().get(1);
        ServerId follower = p.followers().get(0);
        ServerId spare = notOn(s, p);
        kudu.execute(Step.move(0, p.id(), p.table(), follower, spare, 0, "").withIndex(0), ClusterConnector.StepProgress.NONE);
        Partition after = partition(kudu.snapshot(), p);
        assertTrue(after.isOn(spare) && !after.isOn(follower), after.toString());
        assertEquals(3, after.voterCount());

        // The leader's own copy: once the new copy votes, the leader steps down so that the master can evict it.
        ServerId leader = after.leader().orElseThrow();
        kudu.execute(Step.move(0, p.id(), p.table(), leader, follower, 0, "").withIndex(1), ClusterConnector.StepProgress.NONE);
        Partition last = partition(kudu.snapshot(), p);
        assertTrue(last.isOn(follower) && !last.isOn(leader), last.toString());
        assertEquals(3, last.voterCount());
        assertTrue(last.leader().isPresent() && !last.leader().get().equals(leader), last.toString());
        assertEquals(rows, kudu.rowCounts().orElseThrow());
        assertEquals(Verdict.PASS, kudu.health().verdict(), kudu.health().toString());
    }

    @Test
    void aTransferByCallLands() throws Exception {
        ClusterSnapshot s = kudu.snapshot();
        Partition p = s.partitions().get(2);
        ServerId to = p.followers().get(0);
        kudu.execute(Step.transfer(0, p.id(), p.table(), p.leader().orElseThrow(), to, "").withIndex(0), ClusterConnector.StepProgress.NONE);
        assertEquals(Optional.of(to), partition(kudu.snapshot(), p).leader());
    }

    @Test
    void aPlanTheClusterOutranIsDriftAndChangesNothing() throws Exception {
        ClusterSnapshot s = kudu.snapshot();
        Partition p = s.partitions().get(3);
        List<ServerId> on = p.servers();
        // the destination already holds a copy
        ConnectorException held = assertThrows(ConnectorException.class, () -> kudu.execute(
                Step.move(0, p.id(), p.table(), on.get(0), on.get(1), 0, "").withIndex(0), ClusterConnector.StepProgress.NONE));
        assertEquals(ConnectorException.Kind.DRIFT, held.kind(), held.getMessage());
        assertTrue(held.getMessage().contains("is already present"), held.getMessage());
        // the source holds none
        List<ServerId> spares = s.servers().stream().map(x -> x.id()).filter(id -> !p.isOn(id)).toList();
        ConnectorException gone = assertThrows(ConnectorException.class, () -> kudu.execute(
                Step.move(0, p.id(), p.table(), spares.get(0), spares.get(1), 0, "").withIndex(1), ClusterConnector.StepProgress.NONE));
        assertTrue(gone.getMessage().contains("no longer holds a replica"), gone.getMessage());
        assertEquals(ConnectorException.Kind.DRIFT, gone.kind(), gone.getMessage());
        assertEquals(p.replicas(), partition(kudu.snapshot(), p).replicas());
    }
}
