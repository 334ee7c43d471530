package io.tabletop.ui;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.StepType;
import io.tabletop.executor.RunState;
import javafx.embed.swing.SwingFXUtils;
import javafx.scene.Node;
import javafx.scene.chart.LineChart;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.Spinner;
import javafx.scene.image.WritableImage;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.tabletop.ui.RemovalFlowUiTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The adaptive mode clicked through: chosen on the pre-check page with its ceiling, the run page shows the
 * bound on moves per server now and a live chart of the time per move and the bound.
 */
@ExtendWith(ApplicationExtension.class)
class AdaptiveUiTest {
    private UiFixture ui;

    @Start
    void start(Stage stage) {
        ui = UiFixture.open(stage, SandboxConnector.manual(SandboxFixtures.kuduBaseline()), 1400, 950);
        ui.model().refresh();
    }

    @AfterEach
    void stop() {
        ui.close();
    }

    @Test
    @SuppressWarnings("unchecked")
    void aDrainWhoseMovesKeepTheirPaceRisesToTheCeilingAndShowsItLive(FxRobot robot) throws Exception {
        SandboxConnector sandbox = ui.sandbox();
        MainViewModel model = ui.model();
        waitFor(() -> model.servers().size() == 5);
        WaitForAsyncUtils.asyncFx(() -> model.servers().get(1).selectedProperty().set(true)).get();
        robot.clickOn("#remove-selected");
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(() -> !preview.isDisabled());
        Spinner<Integer> ceiling = robot.lookup("#ceiling").queryAs(Spinner.class);
        assertEquals(10, ceiling.getValue(), "the ceiling offered is twice the engine's default");
        assertTrue(ceiling.isDisabled(), "fixed until adaptive is chosen");
        robot.clickOn("#adaptive");
        WaitForAsyncUtils.asyncFx(() -> ceiling.getValueFactory().setValue(8)).get();
        robot.clickOn(preview);
        robot.clickOn("#confirm").write("ts-2");
        robot.clickOn("#run");
        Label now = robot.lookup("#concurrency").queryAs(Label.class);
        waitFor(() -> now.getText().startsWith("Moves per server: 5 (adaptive; never above 8)"));
        waitFor(() -> {
            sandbox.cluster().clock().advanceBy(100); // small steps: a move is timed from its start to within 0.1 s
            return now.getText().startsWith("Moves per server: 8 ");
        });
        Node runPage = robot.lookup("#moves-chart").query().getParent().getParent();
        shot(runPage.getScene().getRoot(), "adaptive-run");
        waitFor(() -> {
            sandbox.cluster().clock().advanceBy(100);
            return robot.lookup("#run-state").queryAs(Label.class).getText().equals(RunState.SUCCEEDED.name());
        });
        waitFor(() -> !ui.view().operation().postChecks().isEmpty()); // the run page has taken in the end, post-checks included
        assertTrue(sandbox.snapshot().partitions().stream().noneMatch(p -> p.isOn(ServerId.of("ts-2"))), "drained");
        LineChart<Number, Number> chart = robot.lookup("#moves-chart").queryAs(LineChart.class);
        long moves = ui.view().operation().planProperty().get().steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).count();
        List<Number> levels = WaitForAsyncUtils.asyncFx(() -> chart.getData().get(1).getData().stream().map(d -> d.getYValue()).toList()).get();
        assertEquals(moves, levels.size(), "one point per move");
        assertTrue(levels.stream().allMatch(v -> v.intValue() >= 1 && v.intValue() <= 8), "never above the ceiling: " + levels);
        assertTrue(levels.stream().anyMatch(v -> v.intValue() == 8), "moves ran under the ceiling: " + levels);
    }

    private static void shot(Node node, String name) throws Exception {
        Path out = Path.of("target", "screenshots");
        Files.createDirectories(out);
        WritableImage img = WaitForAsyncUtils.asyncFx(() -> node.snapshot(null, null)).get();
        ImageIO.write(SwingFXUtils.fromFXImage(img, null), "png", out.resolve(name + ".png").toFile());
    }
}
