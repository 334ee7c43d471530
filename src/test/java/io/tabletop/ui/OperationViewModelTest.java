package io.tabletop.ui;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import io.tabletop.service.OfflineSnapshot;
import io.tabletop.service.Operation;
import io.tabletop.service.RemovalService;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An operation's pre-check, preview and confirmation without the JavaFX toolkit: the view model's
 * background work runs on the test's thread ({@link TaskRunner.Immediate}).
 */
class OperationViewModelTest {
    private final TaskRunner runner = new TaskRunner.Immediate();

    @Test
    void aRemovalIsCheckedPreviewedAndConfirmedOnlyByItsOwnWord() {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            OperationViewModel vm = new OperationViewModel(sandbox, "sandbox:baseline:instant", new RemovalService(), runner,
                    Operation.remove(List.of(ServerId.of("ts-2")), List.of("ts-2")));
            vm.preview();
            assertEquals(OperationViewModel.Stage.CHECKING, vm.stageProperty().get(), "nothing to preview before the pre-check");
            vm.check();
            assertEquals(OperationViewModel.Stage.CHECKED, vm.stageProperty().get());
            assertNotNull(vm.planProperty().get());
            assertTrue(vm.checks().stream().anyMatch(c -> c.name().equals("Cluster health") && c.verdict() == Verdict.PASS));
            assertTrue(vm.checks().stream().anyMatch(c -> c.name().equals("Row counts")), vm.checks().toString());
            vm.preview();
            assertEquals(OperationViewModel.Stage.PREVIEW, vm.stageProperty().get());
            assertEquals(vm.planProperty().get().steps().size(), vm.steps().size());
            vm.confirmTextProperty().set("ts-3");
            assertFalse(vm.canRunBinding().get());
            vm.confirmTextProperty().set(" ts-2 ");
            assertTrue(vm.canRunBinding().get());
            vm.back();
            assertEquals(OperationViewModel.Stage.CHECKED, vm.stageProperty().get());
            assertEquals("", vm.confirmTextProperty().get(), "going back clears the confirmation");
        }
    }

    @Test
    void aBoundedRebalanceAndABlockedScaleOutSayWhy() {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            sandbox.cluster().addServer();
            OperationViewModel rebalance = new OperationViewModel(sandbox, null, new RemovalService(), runner, Operation.rebalance());
            rebalance.maxMovesProperty().set(3);
            rebalance.check();
            assertEquals(3, rebalance.planProperty().get().summary().replicaMoves());
            assertEquals("rebalance", rebalance.confirmWord());

            OperationViewModel onto = new OperationViewModel(sandbox, null, new RemovalService(), runner,
                    Operation.scaleOut(List.of(ServerId.of("ts-99")), List.of("ts-99")));
            onto.check();
            assertEquals(null, onto.planProperty().get());
            assertTrue(onto.checks().stream().anyMatch(c -> c.verdict() == Verdict.BLOCK), onto.checks().toString());
        }
    }

    @Test
    void anOfflineSnapshotPreviewsButNeverRuns() {
        OfflineSnapshot offline = new OfflineSnapshot(SandboxFixtures.kuduBaseline(), EngineCapabilities.kudu(), "Offline: b.json");
        OperationViewModel vm = new OperationViewModel(offline, null, new RemovalService(), runner,
                Operation.remove(List.of(ServerId.of("ts-2")), List.of("ts-2")));
        assertTrue(vm.offline());
        vm.check();
        CheckResult health = vm.checks().stream().filter(c -> c.name().equals("Cluster health")).findFirst().orElseThrow();
        assertEquals(Verdict.WARN, health.verdict());
        assertTrue(health.message().startsWith("offline snapshot"), health.message());
        vm.preview();
        vm.confirmTextProperty().set("ts-2");
        assertFalse(vm.canRunBinding().get(), "an offline snapshot runs nothing");
        vm.run();
        assertEquals(OperationViewModel.Stage.PREVIEW, vm.stageProperty().get());
    }
}
