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
}
