package io.tabletop.connector;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Table;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every adapter of the port promises, run against each one (the sandbox, real Kudu, and every
 * engine that comes later): a snapshot that holds together, a health verdict, a repeated step that does
 * no harm, a refused step that says so with the right kind, close twice, and no secret in any command.
 * A subclass opens the cluster once for the class and closes it after.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ConnectorContract {
    /** The connector under test, open for the whole class. */
    protected abstract ClusterConnector connector();

    /** A second connector to the same cluster, which the test closes. */
    protected abstract ClusterConnector openAnother() throws Exception;

    /** The secret the connector was opened with, if its engine has one. */
    protected Optional<String> secret() {
        return Optional.empty();
    }

    @Test
    void theSnapshotHoldsTogether() throws Exception {
        ClusterSnapshot s = connector().snapshot();
        assertEquals(connector().engine(), s.engine());
        assertFalse(s.servers().isEmpty(), "a cluster has servers");
        Set<ServerId> servers = new HashSet<>();
        s.servers().forEach(x -> assertTrue(servers.add(x.id()), "server " + x.id() + " listed once"));
        Set<String> tables = s.tables().stream().map(t -> t.id().value()).collect(Collectors.toSet());
        for (Table t : s.tables()) {
            assertTrue(t.replicationFactor() >= 1, t.name() + " has a replication factor");
        }
        for (Partition p : s.partitions()) {
            assertTrue(tables.contains(p.table().value()), p.id() + " belongs to a known table");
            Set<ServerId> holders = new HashSet<>();
            for (Replica r : p.replicas()) {
                assertTrue(servers.contains(r.server()), p.id() + ": replica on unknown server " + r.server());
                assertTrue(holders.add(r.server()), p.id() + ": two replicas on " + r.server());
            }
            assertTrue(p.replicas().stream().filter(r -> r.role() == io.tabletop.domain.ReplicaRole.LEADER).count() <= 1,
                    p.id() + " has at most one leader");
        }
    }

    @Test
    void healthGivesAVerdictAndASummary() throws Exception {
        HealthReport h = connector().health();
        assertNotNull(h.verdict());
        assertFalse(h.summary().isBlank());
    }

    @Test
    void rowCountsNameTheTables() throws Exception {
        Optional<java.util.Map<String, Long>> rows = connector().rowCounts();
        Assumptions.assumeTrue(rows.isPresent(), connector().engine() + " cannot count rows");
        assertEquals(connector().snapshot().tables().stream().map(Table::name).collect(Collectors.toSet()), rows.get().keySet());
        assertTrue(rows.get().values().stream().allMatch(n -> n >= 0));
        assertEquals(rows, connector().rowCounts(connector().snapshot()), "counted for a snapshot just read: the same rows");
    }

    @Test
    void aRepeatedStepDoesNoHarm() throws Exception {
        Assumptions.assumeTrue(connector().capabilities().maintenanceMode(), "no maintenance state to repeat");
        ServerId id = connector().snapshot().servers().get(0).id();
        Step enter = Step.server(0, StepType.ENTER_MAINTENANCE, id, "contract").withIndex(0);
        Step exit = Step.server(0, StepType.EXIT_MAINTENANCE, id, "contract").withIndex(1);
        try {
            connector().execute(enter, ClusterConnector.StepProgress.NONE);
            connector().execute(enter, ClusterConnector.StepProgress.NONE);
            assertEquals(ServerState.MAINTENANCE, connector().snapshot().server(id).orElseThrow().state());
        } finally {
            connector().execute(exit, ClusterConnector.StepProgress.NONE);
            connector().execute(exit, ClusterConnector.StepProgress.NONE);
        }
        assertEquals(ServerState.LIVE, connector().snapshot().server(id).orElseThrow().state());
    }

    @Test
    void aRefusedStepSaysWhatAndIsNotRetried() throws Exception {
        Assumptions.assumeFalse(connector().capabilities().engineRebalance(), "the engine moves nothing on request");
        ClusterSnapshot s = connector().snapshot();
        Partition p = s.partitions().stream().filter(x -> x.replicas().size() >= 2).findFirst().orElseThrow();
        ServerId follower = p.replicas().stream().filter(r -> r.role() == io.tabletop.domain.ReplicaRole.FOLLOWER)
                .findFirst().orElseThrow().server();
        ServerId holder = p.replicas().stream().map(Replica::server).filter(x -> !x.equals(follower)).findFirst().orElseThrow();
        Step impossible = Step.move(0, p.id(), p.table(), follower, holder, 0, "contract: onto a server that holds it").withIndex(0);
        ConnectorException e = assertThrows(ConnectorException.class, () -> connector().execute(impossible, ClusterConnector.StepProgress.NONE));
        assertEquals(connector().engine(), e.engine());
        assertTrue(e.getMessage().startsWith(connector().engine().wireName() + ": "), e.getMessage());
        assertNotEquals(ConnectorException.Kind.TRANSIENT, e.kind(), "a refusal is not worth retrying: " + e.getMessage());
        assertFalse(connector().isRetryable(impossible, e));
        assertEquals(Set.copyOf(p.replicas()), Set.copyOf(connector().snapshot().partition(p.id()).orElseThrow().replicas()),
                "a refused move changes nothing");
    }

    @Test
    void closingTwiceIsHarmless() throws Exception {
        ClusterConnector c = openAnother();
        c.snapshot();
        c.close();
        c.close();
    }

    @Test
    void everyCommandNamesWhatItTouchesAndNoSecret() throws Exception {
        ClusterSnapshot s = connector().snapshot();
        Partition p = s.partitions().get(0);
        ServerId a = p.replicas().get(0).server();
        ServerId b = s.servers().stream().map(x -> x.id()).filter(x -> !p.isOn(x)).findFirst().orElse(a);
        List<Step> steps = new ArrayList<>(List.of(
                Step.gate(0, null, ""), Step.engineRebalance(0, List.of(a), 0, "")));
        for (StepType t : List.of(StepType.ENTER_MAINTENANCE, StepType.EXIT_MAINTENANCE, StepType.STOP_SERVER, StepType.UNREGISTER_SERVER)) {
            steps.add(Step.server(0, t, a, ""));
        }
        if (!a.equals(b)) {
            steps.add(Step.move(0, p.id(), p.table(), a, b, 0, ""));
        }
        if (p.replicas().size() > 1) {
            steps.add(Step.transfer(0, p.id(), p.table(), a, p.replicas().get(1).server(), ""));
        }
        for (Step st : steps) {
            String cmd = connector().command(st.withIndex(0));
            assertFalse(cmd.isBlank(), st.type() + " has a command");
            if (st.partition() != null) {
                assertTrue(cmd.contains(st.partition().value()), cmd + " names the partition");
            }
            secret().ifPresent(x -> assertFalse(cmd.contains(x), st.type() + "'s command holds the secret"));
        }
    }
}
