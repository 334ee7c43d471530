package io.tabletop.ui;

import io.tabletop.Main;
import io.tabletop.service.Connections;
import io.tabletop.connector.HealthReport;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testfx.api.FxToolkit;
import org.testfx.util.WaitForAsyncUtils;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The main view model without any view: rows by key, filters. Runs on the FX thread. */
class MainViewModelTest {
    private static final HealthReport OK = new HealthReport(Verdict.PASS, "HEALTHY", List.of());

    @BeforeAll
    static void toolkit() throws Exception {
        FxToolkit.registerPrimaryStage();
    }

    @Test
    void rowsAreUpdatedInPlaceSoTicksSurviveARefresh() throws Exception {
        WaitForAsyncUtils.asyncFx(() -> {
            MainViewModel m = new MainViewModel(new UiRunner(), new Connections(Main.registry()), "test", null);
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
        }).get();
    }

    @Test
    void partitionFiltersByTableAndByServer() throws Exception {
        WaitForAsyncUtils.asyncFx(() -> {
            MainViewModel m = new MainViewModel(new UiRunner(), new Connections(Main.registry()), "test", null);
            ClusterSnapshot s = SandboxFixtures.kuduBaseline();
            m.apply(s, OK);
            assertEquals(60, m.partitions().size());
            m.tableFilterProperty().set("loadgen_b");
            assertEquals(20, m.partitions().size());
            m.showPartitionsOf(ServerId.of("ts-1"));
            long expected = s.partitions().stream().filter(p -> p.table().value().equals("t-2") && p.isOn(ServerId.of("ts-1"))).count();
            assertEquals(expected, m.partitions().size());
            assertTrue(m.partitions().stream().allMatch(r -> r.partition().isOn(ServerId.of("ts-1"))));
        }).get();
    }

    /** A refresh applies only what changed, and what changed is never missed: moved, added and removed partitions. */
    @Test
    void aRefreshAppliesExactlyWhatChanged() throws Exception {
        WaitForAsyncUtils.asyncFx(() -> {
            MainViewModel m = new MainViewModel(new UiRunner(), new Connections(Main.registry()), "test", null);
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
        }).get();
    }
}
