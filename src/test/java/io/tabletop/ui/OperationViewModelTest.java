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
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import javafx.collections.ListChangeListener;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An operation's pre-check, preview, confirmation and run without the JavaFX toolkit: the view model's
 * background work and the run's steps run on the test's thread ({@link TaskRunner.Immediate}), which plays
 * the UI thread; the run's coordinator wakes it.
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
    void aRunGoesFromConfirmationToPostChecksWithoutTheToolkit() throws Exception {
        TaskRunner.Immediate immediate = new TaskRunner.Immediate();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            OperationViewModel vm = new OperationViewModel(sandbox, "sandbox:baseline:instant", new RemovalService(), immediate,
                    Operation.remove(List.of(ServerId.of("ts-2")), List.of("ts-2")));
            vm.check();
            vm.preview();
            vm.confirmTextProperty().set("ts-2");
            List<Integer> shown = new ArrayList<>();
            vm.tasks().addListener((ListChangeListener<TaskRunner.StepHandle>) c -> {
                while (c.next()) {
                    c.getAddedSubList().forEach(h -> shown.add(h.step().index()));
                }
            });
            vm.run();
            assertEquals(OperationViewModel.Stage.RUNNING, vm.stageProperty().get());
            immediate.tickUntil(() -> vm.stageProperty().get() == OperationViewModel.Stage.DONE, Duration.ofSeconds(60));
            assertEquals(RunState.SUCCEEDED, vm.runStateProperty().get(), vm.outcomeProperty().get());
            assertTrue(vm.steps().stream().allMatch(r -> r.stateProperty().get() == StepState.SUCCEEDED), "every step row ends succeeded");
            // Run clicked at once: the pre-check's health verdict, seconds old, answers the first gate, which runs nothing.
            assertTrue(vm.steps().get(0).messageProperty().get().startsWith("answered by the pre-check's verdict"),
                    vm.steps().get(0).messageProperty().get());
            assertEquals(vm.planProperty().get().steps().size() - 1, shown.size(), "every other step was shown as running once");
            assertFalse(shown.contains(0));
            assertTrue(vm.log().stream().anyMatch(l -> l.contains("Timeline: first step ")), "the run page gives the timeline");
            assertTrue(vm.tasks().isEmpty(), "finished steps leave the progress list");
            assertEquals(1.0, vm.progressProperty().get(), 1e-9);
            assertFalse(vm.postChecks().isEmpty());
            assertTrue(vm.postChecks().stream().noneMatch(c -> c.verdict() == Verdict.BLOCK), vm.postChecks().toString());
            assertTrue(sandbox.snapshot().partitions().stream().noneMatch(p -> p.isOn(ServerId.of("ts-2"))),
                    "ts-2 holds nothing afterwards");
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
