package io.tabletop.ui;

import io.tabletop.Main;
import io.tabletop.service.Connections;
import io.tabletop.connector.HealthReport;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The main view model without any view and without the JavaFX toolkit: background work and the refresh
 * timer run through {@link TaskRunner.Immediate}, on the test's own thread.
 */
class MainViewModelTest {
    private static final HealthReport OK = new HealthReport(Verdict.PASS, "HEALTHY", List.of());

    /** A view model with nothing to show yet, on the immediate runner. */
    private static MainViewModel model() {
        return new MainViewModel(new TaskRunner.Immediate(), new Connections(Main.registry()), "test", null);
    }

    @Test
    void theRefreshTimerReadsTheClusterAndAFailedReadIsOneLine() throws Exception {
        TaskRunner.Immediate runner = new TaskRunner.Immediate();
        try (io.tabletop.connector.sandbox.SandboxConnector sandbox = io.tabletop.connector.sandbox.SandboxConnector.instant(SandboxFixtures.small())) {
            MainViewModel m = new MainViewModel(runner, new Connections(Main.registry()), sandbox.name(), sandbox);
            m.startPolling();
            assertEquals(4, m.servers().size(), "the first read on start");
            assertEquals(Verdict.PASS, m.healthProperty().get());
            sandbox.cluster().addServer();
            runner.tickers().get(0).tick();
            assertEquals(5, m.servers().size(), "the 2 s timer reads again: the new server shows");
            assertTrue(m.servers().get(4).isNewAndEmpty());
            m.stopPolling();
            assertTrue(!runner.tickers().get(0).running());
        }
        MainViewModel broken = new MainViewModel(runner, new Connections(Main.registry()), "broken", new OfflineBroken());
        broken.refresh();
        assertEquals("Cannot read the cluster: sandbox: read failed: the disk is gone", broken.healthTextProperty().get());
        assertEquals(Verdict.BLOCK, broken.healthProperty().get());
    }

    /** A connector whose reads fail. */
    private static final class OfflineBroken implements io.tabletop.connector.ClusterConnector {
        @Override
        public String name() {
            return "broken";
        }

        @Override
        public io.tabletop.domain.Engine engine() {
            return io.tabletop.domain.Engine.SANDBOX;
        }

        @Override
        public io.tabletop.domain.EngineCapabilities capabilities() {
            return io.tabletop.domain.EngineCapabilities.kudu();
        }

        @Override
        public ClusterSnapshot snapshot() throws io.tabletop.connector.ConnectorException {
            throw new io.tabletop.connector.ConnectorException(engine(), "read", "the disk is gone");
        }

        @Override
        public HealthReport health() throws io.tabletop.connector.ConnectorException {
            throw new io.tabletop.connector.ConnectorException(engine(), "read", "the disk is gone");
        }

        @Override
        public void execute(io.tabletop.domain.Step step, StepProgress progress) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void rowsAreUpdatedInPlaceSoTicksSurviveARefresh() throws Exception {
        {
            MainViewModel m = model();
            ClusterSnapshot s = SandboxFixtures.kuduBaseline();
            m.apply(s, OK);
            ServerRow ts3 = m.servers().get(2);
            ts3.selectedProperty().set(true);
            m.apply(s.withServerState(ServerId.of("ts-3"), io.tabletop.domain.ServerState.MAINTENANCE), OK);
            assertSame(ts3, m.servers().get(2), "the same row object, so selection and scroll survive");
            assertTrue(ts3.selectedProperty().get());
            assertEquals(io.tabletop.domain.ServerState.MAINTENANCE, ts3.stateProperty().get());
            assertEquals(List.of(ServerId.of("ts-3")), m.selectedServers());
            assertEquals(1, m.selectedCountProperty().get());
            // A server that disappears loses its row; the others keep theirs.
            ServerRow ts1 = m.servers().get(0);
            m.apply(SandboxFixtures.tight(), OK); // ts-1..ts-4 only
            assertEquals(4, m.servers().size());
            assertSame(ts1, m.servers().get(0));
            assertTrue(m.servers().stream().noneMatch(r -> r.id().equals(ServerId.of("ts-5"))));
        }
    }

    @Test
    void partitionFiltersByTableAndByServer() throws Exception {
        {
            MainViewModel m = model();
            ClusterSnapshot s = SandboxFixtures.kuduBaseline();
            m.apply(s, OK);
            assertEquals(60, m.partitions().size());
            m.tableFilterProperty().set("loadgen_b");
            assertEquals(20, m.partitions().size());
            m.showPartitionsOf(ServerId.of("ts-1"));
            long expected = s.partitions().stream().filter(p -> p.table().value().equals("t-2") && p.isOn(ServerId.of("ts-1"))).count();
            assertEquals(expected, m.partitions().size());
            assertTrue(m.partitions().stream().allMatch(r -> r.partition().isOn(ServerId.of("ts-1"))));
        }
    }

    /** A refresh applies only what changed, and what changed is never missed: moved, added and removed partitions. */
    @Test
    void aRefreshAppliesExactlyWhatChanged() throws Exception {
        {
            MainViewModel m = model();
            ClusterSnapshot s = SandboxFixtures.kuduBaseline();
            java.util.concurrent.atomic.AtomicInteger placements = new java.util.concurrent.atomic.AtomicInteger();
            m.placementProperty().addListener((o, a, b) -> placements.incrementAndGet());
            m.apply(s, OK);
            assertEquals(1, placements.get());
            ServerId ts1 = ServerId.of("ts-1");
            m.showPartitionsOf(ts1);
            int onTs1 = m.partitions().size();
            m.apply(s.withServerState(ServerId.of("ts-2"), io.tabletop.domain.ServerState.MAINTENANCE), OK);
            assertEquals(1, placements.get(), "a server's state is no change of placement: the grid, chart and heatmap stay");

            // Move one of ts-1's follower replicas to a server that does not hold the partition.
            io.tabletop.domain.Partition p = s.partitions().stream().filter(x -> x.roleOn(ts1).orElse(null) == io.tabletop.domain.ReplicaRole.FOLLOWER)
                    .findFirst().orElseThrow();
            ServerId dest = s.servers().stream().map(io.tabletop.domain.Server::id).filter(id -> !p.isOn(id)).findFirst().orElseThrow();
            java.util.List<io.tabletop.domain.Replica> moved = p.replicas().stream().map(r -> r.server().equals(ts1)
                    ? new io.tabletop.domain.Replica(dest, io.tabletop.domain.ReplicaRole.FOLLOWER) : r).toList();
            ClusterSnapshot after = s.withReplaced(List.of(p.withReplicas(moved)), s.servers());
            m.apply(after, OK);
            assertEquals(2, placements.get());
            assertEquals(onTs1 - 1, m.partitions().size(), "the filtered view follows the move off ts-1");
            m.showPartitionsOf(dest);
            assertTrue(m.partitions().stream().anyMatch(r -> r.id().equals(p.id().value())), "and onto " + dest);
            assertTrue(m.partitions().stream().filter(r -> r.id().equals(p.id().value())).findFirst().orElseThrow()
                    .followersProperty().get().contains(dest.value()));

            // A cluster with fewer partitions drops their rows.
            m.serverFilterProperty().set(MainViewModel.ALL_SERVERS);
            m.apply(SandboxFixtures.tight(), OK);
            assertEquals(24, m.partitions().size());
            assertEquals(24, m.partitionCount());
        }
    }
}
