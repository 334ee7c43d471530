package io.tabletop.ui;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.Verdict;
import io.tabletop.planner.Invariants;
import io.tabletop.service.AppPaths;
import io.tabletop.store.SnapshotJson;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.Spinner;
import javafx.scene.control.TableView;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.tabletop.ui.RemovalFlowUiTest.treeVisible;
import static io.tabletop.ui.RemovalFlowUiTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every goal clicked through on the sandbox, headless: scale-out onto an added server, a rebalance with a
 * bound, a restore after a completed run, a resume from the Runs tab, and an offline snapshot (plan,
 * preview and export; Run disabled). The sandbox's clock moves only when a test moves it.
 */
@ExtendWith(ApplicationExtension.class)
class OperationsUiTest {
    private SandboxConnector sandbox;
    private UiFixture ui;
    private MainViewModel model;

    @TempDir
    Path dir;

    @Start
    void start(Stage stage) {
        ui = UiFixture.open(stage, SandboxConnector.manual(SandboxFixtures.kuduBaseline()), 1500, 950);
        sandbox = ui.sandbox();
        model = ui.model();
        model.refresh();
    }

    @AfterEach
    void stop() {
        ui.close();
    }

    /** From the pre-check page: preview, confirm with {@code word}, run, and wait for the verify page. */
    private void previewConfirmRun(FxRobot robot, String word) throws Exception {
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(() -> !preview.isDisabled());
        robot.clickOn(preview);
        TableView<?> steps = robot.lookup("#plan-steps").queryAs(TableView.class);
        waitFor(() -> treeVisible(steps) && !steps.getItems().isEmpty());
        Button run = robot.lookup("#run").queryButton();
        robot.clickOn("#confirm").write(word);
        waitFor(() -> !run.isDisabled());
        robot.clickOn(run);
        Button done = robot.lookup("#done").queryButton();
        waitFor(60, () -> {
            sandbox.cluster().clock().advanceBy(2_000);
            return treeVisible(done) && !robot.lookup("#outcome").queryAs(Label.class).getText().isEmpty();
        });
    }

    private String outcome(FxRobot robot) {
        return robot.lookup("#outcome").queryAs(Label.class).getText();
    }

    private List<CheckResult> postChecks(FxRobot robot) throws Exception {
        ListView<CheckResult> post = robot.lookup("#post-checks").queryListView();
        waitFor(() -> !post.getItems().isEmpty());
        return List.copyOf(post.getItems());
    }

    private static int spread(Collection<ServerLoad> loads, java.util.function.ToIntFunction<ServerLoad> f) {
        return loads.stream().mapToInt(f).max().orElse(0) - loads.stream().mapToInt(f).min().orElse(0);
    }

    /** Adds a server by clicking and waits until the table shows it, new and empty. */
    private ServerId addServer(FxRobot robot) throws Exception {
        int before = sandbox.snapshot().servers().size();
        robot.clickOn("#add-server");
        waitFor(() -> model.servers().size() == before + 1);
        ServerRow added = model.servers().get(before);
        assertTrue(added.isNewAndEmpty(), added.id() + " is new and empty");
        return added.id();
    }

    private ClusterSnapshot scaleOutOntoANewServer(FxRobot robot) throws Exception {
        waitFor(() -> model.servers().size() == 5);
        ServerId added = addServer(robot);
        ClusterSnapshot before = sandbox.snapshot();
        robot.clickOn("#scale-out");
        waitFor(() -> robot.lookup("#removal-tab").tryQuery().isPresent() || ui.view().tabs().getTabs().stream()
                .anyMatch(t -> t.getText().equals("Scale out: " + added.value())));
        previewConfirmRun(robot, "scale-out");
        assertEquals("Done: replicas and leaders balanced onto " + added.value(), outcome(robot).replaceAll(" in .*", ""));
        return before;
    }

    @Test
    void scaleOutOntoAnAddedServerBalancesReplicasAndLeadersAndLosesNothing(FxRobot robot) throws Exception {
        ClusterSnapshot before = scaleOutOntoANewServer(robot);
        ClusterSnapshot after = sandbox.snapshot();
        Map<ServerId, ServerLoad> loads = after.loads();
        assertTrue(spread(loads.values(), ServerLoad::replicas) <= 1, "replicas within 1 of even: " + loads);
        assertTrue(spread(loads.values(), ServerLoad::leaders) <= 1, "leaders within 1: " + loads);
        assertEquals(List.of(), Invariants.violations(before, after, List.of()), "nothing lost, every partition led");
        List<CheckResult> post = postChecks(robot);
        assertTrue(post.stream().allMatch(c -> c.verdict() == Verdict.PASS), post.toString());
        assertTrue(post.stream().anyMatch(c -> c.name().equals("Row counts")), post.toString());
    }

    @Test
    void aRebalanceWithABoundMakesAtMostThatManyMoves(FxRobot robot) throws Exception {
        waitFor(() -> model.servers().size() == 5);
        ServerId added = addServer(robot);
        robot.clickOn("#rebalance");
        CheckBox bound = robot.lookup("#bound-moves").queryAs(CheckBox.class);
        @SuppressWarnings("unchecked")
        Spinner<Integer> max = robot.lookup("#max-moves").queryAs(Spinner.class);
        WaitForAsyncUtils.asyncFx(() -> max.getValueFactory().setValue(4)).get();
        robot.clickOn(bound);
        Label summary = robot.lookup("#plan-summary").queryAs(Label.class);
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(() -> !preview.isDisabled() && ui.view().operation().planProperty().get().summary().replicaMoves() == 4);
        long movesBefore = sandbox.cluster().completedMoves();
        previewConfirmRun(robot, "rebalance");
        assertTrue(summary.getText().startsWith("4 replica moves"), summary.getText());
        assertTrue(outcome(robot).startsWith("Done: the cluster is rebalanced"), outcome(robot));
        assertEquals(4, sandbox.cluster().completedMoves() - movesBefore);
        assertEquals(4, sandbox.snapshot().loads().get(added).replicas(), "the moves went to the empty server");
    }

    @Test
    void aCompletedRunIsRestoredFromTheRunsTab(FxRobot robot) throws Exception {
        ClusterSnapshot before = scaleOutOntoANewServer(robot);
        robot.clickOn("#done");
        robot.clickOn("Runs");
        TableView<?> runs = robot.lookup("#runs-table").queryAs(TableView.class);
        waitFor(() -> !runs.getItems().isEmpty() && ((io.tabletop.service.Runs.RunInfo) runs.getItems().get(0)).state().equals("SUCCEEDED"));
        javafx.scene.control.Label audit = robot.lookup("#audit-state").queryAs(javafx.scene.control.Label.class);
        waitFor(() -> audit.getText().matches("Audit log( PROBLEM)?: .+"));
        assertTrue(audit.getText().contains("record(s)") || audit.getText().contains("PROBLEM"), "the Runs tab shows the audit state: " + audit.getText());
        WaitForAsyncUtils.asyncFx(() -> runs.getSelectionModel().select(0)).get();
        robot.clickOn("#runs-restore");
        previewConfirmRun(robot, "restore");
        assertTrue(outcome(robot).startsWith("Restored"), outcome(robot));
        assertEquals(placement(before), placement(sandbox.snapshot()), "every replica and leader back where it was");
    }

    @Test
    void anAbandonedRunIsResumedFromTheRunsTab(FxRobot robot) throws Exception {
        waitFor(() -> model.servers().size() == 5);
        ServerId ts2 = ServerId.of("ts-2");
        ClusterSnapshot before = sandbox.snapshot();
        WaitForAsyncUtils.asyncFx(() -> model.servers().get(1).selectedProperty().set(true)).get();
        robot.clickOn("#remove-selected");
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(() -> !preview.isDisabled());
        robot.clickOn(preview);
        robot.clickOn("#confirm").write("ts-2");
        robot.clickOn("#run");
        waitFor(() -> {
            sandbox.cluster().clock().advanceBy(300);
            return sandbox.cluster().completedMoves() >= 6 && sandbox.cluster().movesInFlight() > 0;
        });
        robot.clickOn("#cancel");
        Button done = robot.lookup("#done").queryButton();
        waitFor(60, () -> {
            sandbox.cluster().clock().advanceBy(1_000);
            return treeVisible(done);
        });
        robot.clickOn(done);
        robot.clickOn("Runs");
        TableView<?> runs = robot.lookup("#runs-table").queryAs(TableView.class);
        waitFor(() -> !runs.getItems().isEmpty() && ((io.tabletop.service.Runs.RunInfo) runs.getItems().get(0)).state().equals("CANCELLED"));
        WaitForAsyncUtils.asyncFx(() -> runs.getSelectionModel().select(0)).get();
        robot.clickOn("#runs-resume");
        previewConfirmRun(robot, "resume");
        assertTrue(outcome(robot).startsWith("Done: run ") && outcome(robot).contains("resumed"), outcome(robot));
        ClusterSnapshot after = sandbox.snapshot();
        assertTrue(after.server(ts2).isEmpty(), "ts-2 is drained and unregistered");
        assertEquals(List.of(), Invariants.violations(before, after, List.of(ts2)));
    }

    @Test
    void anOfflineSnapshotPlansPreviewsAndExportsButNeverRuns(FxRobot robot) throws Exception {
        Path file = dir.resolve("before-window.json");
        SnapshotJson.write(SandboxFixtures.kuduBaseline(), file);
        Path junk = dir.resolve("junk.json");
        Files.write(junk, new byte[]{(byte) 0x89, 'P', 'N', 'G', 0, 1, 2, (byte) 0xff});
        int connections = model.connections().size();
        WaitForAsyncUtils.asyncFx(() -> ui.view().openSnapshot(junk)).get();
        waitFor(() -> model.errorProperty().get().startsWith("Cannot open junk.json: "));
        assertFalse(model.errorProperty().get().contains("Exception") || model.errorProperty().get().contains("\n"), model.errorProperty().get());
        assertEquals(connections, model.connections().size(), "a bad file adds nothing");

        WaitForAsyncUtils.asyncFx(() -> ui.view().openSnapshot(file)).get();
        waitFor(() -> model.currentProperty().get().name().startsWith("Offline: before-window.json") && model.servers().size() == 5);
        WaitForAsyncUtils.asyncFx(() -> model.servers().get(1).selectedProperty().set(true)).get();
        robot.clickOn("#remove-selected");
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(() -> !preview.isDisabled());
        robot.clickOn(preview);
        TableView<?> steps = robot.lookup("#plan-steps").queryAs(TableView.class);
        waitFor(() -> treeVisible(steps) && !steps.getItems().isEmpty());
        Button run = robot.lookup("#run").queryButton();
        WaitForAsyncUtils.asyncFx(() -> ui.view().operation().confirmTextProperty().set("ts-2")).get();
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(run.isDisabled(), "an offline snapshot never runs");
        Path reviews = AppPaths.home().resolve("reviews");
        long existing = Files.isDirectory(reviews) ? countDirs(reviews) : 0;
        robot.clickOn("#export-review-preview");
        waitFor(60, () -> Files.isDirectory(reviews) && countDirs(reviews) > existing
                && ui.view().operation().log().stream().anyMatch(l -> l.contains("Review bundle written to")));
    }

    private static long countDirs(Path p) throws java.io.IOException {
        try (Stream<Path> s = Files.list(p)) {
            return s.filter(Files::isDirectory).count();
        }
    }

    private static Map<String, String> placement(ClusterSnapshot s) {
        return s.partitions().stream().collect(Collectors.toMap(p -> p.id().value(), OperationsUiTest::describe));
    }

    private static String describe(Partition p) {
        return p.replicas().stream().map(r -> r.server().value() + ":" + r.role()).sorted().collect(Collectors.joining(","));
    }
}
