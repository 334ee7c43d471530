package io.tabletop.ui;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import io.tabletop.planner.Invariants;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.TableView;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Removes a server from the sandbox by clicking through the whole flow, headless. */
@ExtendWith(ApplicationExtension.class)
class RemovalFlowUiTest {
    private SandboxConnector sandbox;
    private UiFixture ui;
    private MainViewModel model;

    @Start
    void start(Stage stage) {
        ui = UiFixture.open(stage, SandboxConnector.instant(SandboxFixtures.kuduBaseline()), 1400, 900);
        sandbox = ui.sandbox();
        model = ui.model();
        model.startPolling();
    }

    @AfterEach
    void stop() {
        WaitForAsyncUtils.asyncFx(() -> model.stopPolling());
        ui.close();
    }

    @Test
    void removesAServerByClickingThroughPrecheckPreviewRunAndVerify(FxRobot robot) throws Exception {
        java.time.Instant testStart = java.time.Instant.now().minusSeconds(1);
        ClusterSnapshot before = sandbox.snapshot();
        TableView<?> servers = robot.lookup("#servers").queryAs(TableView.class);
        waitFor(() -> servers.getItems().size() == 5);

        List<CheckBox> ticks = robot.from(servers).lookup(".check-box").queryAllAs(CheckBox.class).stream().toList();
        robot.clickOn(ticks.get(1)); // ts-2
        waitFor(() -> model.selectedServers().equals(List.of(ServerId.of("ts-2"))));
        robot.clickOn("#remove-selected");

        Button preview = robot.lookup("#preview").queryButton();
        waitFor(() -> !preview.isDisabled());
        ListView<CheckResult> checks = robot.lookup("#checks").queryListView();
        assertTrue(checks.getItems().stream().anyMatch(c -> c.name().equals("Cluster health") && c.verdict() == Verdict.PASS));
        assertTrue(checks.getItems().stream().noneMatch(c -> c.verdict() == Verdict.BLOCK));
        robot.clickOn(preview);

        TableView<?> steps = robot.lookup("#plan-steps").queryAs(TableView.class);
        waitFor(() -> treeVisible(steps) && !steps.getItems().isEmpty());
        String summary = robot.lookup("#plan-summary").queryAs(Label.class).getText();
        assertTrue(summary.startsWith("36 replica moves"), summary);
        // Before → after placement: ts-2's copies leave, each arrives somewhere else.
        robot.clickOn("Placement changes");
        TableView<?> changes = robot.lookup("#plan-changes").queryAs(TableView.class);
        waitFor(() -> treeVisible(changes) && !changes.getItems().isEmpty());
        for (Object o : changes.getItems()) {
            PlanChangesView.ChangeRow row = (PlanChangesView.ChangeRow) o;
            String onTs2 = row.cells().getOrDefault(ServerId.of("ts-2"), "");
            if (onTs2.isEmpty()) {
                assertTrue(row.cells().values().stream().noneMatch(c -> c.startsWith("+") || c.startsWith("−")),
                        row + ": a partition not on ts-2 only changes leaders");
            } else {
                assertTrue(onTs2.startsWith("−"), row + ": ts-2's copy leaves");
                assertEquals(1, row.cells().values().stream().filter(c -> c.startsWith("+")).count(), row + ": one copy arrives");
            }
        }
        robot.clickOn("Heatmap after (change)");
        waitFor(() -> robot.lookup("#plan-heatmap .label").queryAll().stream()
                .anyMatch(n -> ((Label) n).getText().contains("(+")));
        Button run = robot.lookup("#run").queryButton();
        assertTrue(run.isDisabled(), "Run stays disabled until the server's name is typed");
        robot.clickOn("#confirm").write("ts-2");
        waitFor(() -> !run.isDisabled());
        robot.clickOn(run);

        Button done = robot.lookup("#done").queryButton();
        waitFor(60, () -> treeVisible(done) && !robot.lookup("#outcome").queryAs(Label.class).getText().isEmpty());
        String outcome = robot.lookup("#outcome").queryAs(Label.class).getText();
        assertTrue(outcome.startsWith("Done: ts-2 removed"), outcome);
        ListView<CheckResult> post = robot.lookup("#post-checks").queryListView();
        assertEquals(5, post.getItems().size());
        assertTrue(post.getItems().stream().allMatch(c -> c.verdict() == Verdict.PASS), post.getItems().toString());
        assertTrue(post.getItems().stream().anyMatch(c -> c.name().equals("Row counts") && c.message().startsWith("the same ")),
                "rows counted before and after: " + post.getItems());

        // The change-review bundle after the run: every file, images decoding at twice the view's size.
        java.nio.file.Path reviews = io.tabletop.service.AppPaths.home().resolve("reviews");
        java.util.Set<java.nio.file.Path> earlier = java.nio.file.Files.exists(reviews)
                ? java.util.Set.copyOf(java.nio.file.Files.list(reviews).toList()) : java.util.Set.of();
        robot.clickOn("#export-review-done");
        waitFor(() -> java.nio.file.Files.exists(reviews) && java.nio.file.Files.list(reviews)
                .anyMatch(d -> !earlier.contains(d) && java.nio.file.Files.exists(d.resolve("review.html"))));
        java.nio.file.Path bundle = java.nio.file.Files.list(reviews).filter(d -> !earlier.contains(d)).findFirst().orElseThrow();
        for (String f : new String[]{"review.md", "review.html", "plan.json", "snapshot-before.json", "snapshot-after.json", "outcome.png",
                "steps.png", "distribution.png", "placement-changes.png", "heatmap-after.png"}) {
            assertTrue(java.nio.file.Files.size(bundle.resolve(f)) > 100, f);
        }
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(bundle.resolve("steps.png").toFile());
        TableView<?> runSteps = robot.lookup("#run-steps").queryAs(TableView.class);
        assertEquals(Math.round(runSteps.getWidth() * 2), png.getWidth(), 2.0, "rendered at 2x");
        assertTrue(distinctColours(png) > 20, "not blank");
        String md = java.nio.file.Files.readString(bundle.resolve("review.md"));
        for (int i = 1; i <= steps.getItems().size(); i++) {
            assertTrue(md.contains("\n| " + i + " | "), "step " + i + " in review.md");
        }
        assertTrue(md.contains("## Run ") && md.contains("Outcome: SUCCEEDED"), "after a run: its outcome");
        for (CheckResult c : checks.getItems()) {
            assertTrue(md.contains("| " + c.verdict() + " | " + c.name() + " |"), "pre-check " + c.name() + " in review.md");
        }
        com.fasterxml.jackson.databind.JsonNode planJson = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(bundle.resolve("plan.json").toFile());
        assertEquals(steps.getItems().size(), planJson.get("steps").size(), "plan.json is the plan that ran");
        assertEquals(36, planJson.at("/summary/replicaMoves").asInt());
        java.awt.image.BufferedImage chart = javax.imageio.ImageIO.read(bundle.resolve("distribution.png").toFile());
        assertEquals(2400, chart.getWidth(), "the before/after chart at 2x");
        assertTrue(distinctColours(chart) > 20, "not blank");
        assertTrue(md.contains("### Audit records") && md.contains("step started"), "and its audit records");
        assertTrue(java.nio.file.Files.readString(bundle.resolve("review.html")).contains("data:image/png;base64,"), "images embedded");

        ClusterSnapshot after = sandbox.snapshot();
        assertTrue(after.server(ServerId.of("ts-2")).isEmpty(), "ts-2 is gone");
        assertEquals(List.of(), Invariants.violations(before, after, List.of(ServerId.of("ts-2"))));

        robot.clickOn(done);
        waitFor(() -> robot.lookup("#removal-tab").tryQuery().isEmpty() || model.servers().size() == 4);
        waitFor(() -> servers.getItems().size() == 4);

        // The run is in the Runs tab, read back from its journal.
        robot.clickOn("Runs");
        TableView<?> runs = robot.lookup("#runs-table").queryAs(TableView.class);
        waitFor(() -> runs.getItems().stream().anyMatch(r -> r instanceof io.tabletop.service.Runs.RunInfo i
                && i.state().equals("SUCCEEDED") && i.record().goalSummary().equals("remove ts-2")
                && i.record().startedAt().isAfter(testStart) && i.record().succeeded() == steps.getItems().size()));
    }

    @Test
    void aRemovalBelowTheReplicationFactorIsBlockedAndCannotBePreviewed(FxRobot robot) throws Exception {
        TableView<?> servers = robot.lookup("#servers").queryAs(TableView.class);
        waitFor(() -> servers.getItems().size() == 5);
        List<CheckBox> ticks = robot.from(servers).lookup(".check-box").queryAllAs(CheckBox.class).stream().toList();
        robot.clickOn(ticks.get(0)).clickOn(ticks.get(1)).clickOn(ticks.get(2));
        waitFor(() -> model.selectedServers().size() == 3);
        robot.clickOn("#remove-selected");

        ListView<CheckResult> checks = robot.lookup("#checks").queryListView();
        waitFor(() -> checks.getItems().stream().anyMatch(c -> c.verdict() == Verdict.BLOCK));
        Node preview = robot.lookup("#preview").query();
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(preview.isDisabled());
        CheckResult block = checks.getItems().stream().filter(c -> c.verdict() == Verdict.BLOCK).findFirst().orElseThrow();
        assertEquals("Replication factor", block.name());
        assertTrue(block.message().contains("loadgen_a (RF 3)"), block.message());
        assertTrue(robot.lookup("#check-verdict").queryAs(Label.class).getText().startsWith("Blocked"));
        assertFalse(sandbox.snapshot().servers().isEmpty());
        assertEquals(0, sandbox.cluster().completedMoves(), "nothing ran");
    }

    static int distinctColours(java.awt.image.BufferedImage img) {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 7) {
            for (int x = 0; x < img.getWidth(); x += 7) {
                seen.add(img.getRGB(x, y));
            }
        }
        return seen.size();
    }

    static boolean treeVisible(Node n) {
        for (Node x = n; x != null; x = x.getParent()) {
            if (!x.isVisible()) {
                return false;
            }
        }
        return n.getScene() != null;
    }

    static void waitFor(java.util.concurrent.Callable<Boolean> condition) throws Exception {
        waitFor(20, condition);
    }

    static void waitFor(int seconds, java.util.concurrent.Callable<Boolean> condition) throws Exception {
        WaitForAsyncUtils.waitFor(seconds, TimeUnit.SECONDS, () -> WaitForAsyncUtils.asyncFx(condition).get());
    }
}
