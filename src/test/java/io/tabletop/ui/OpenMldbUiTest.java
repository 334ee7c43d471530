package io.tabletop.ui;

import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.Engine;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.StepState;
import io.tabletop.service.AppPaths;
import javafx.embed.swing.SwingFXUtils;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.TableView;
import javafx.scene.control.TextField;
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

import static io.tabletop.ui.RemovalFlowUiTest.treeVisible;
import static io.tabletop.ui.RemovalFlowUiTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OpenMLDB by clicking, against the nameserver emulator and a real ZooKeeper: add the connection, see the
 * tablets and partitions with leaders, scale one tablet in (the operator stops it when the run asks), then
 * scale out onto a new one.
 */
@ExtendWith(ApplicationExtension.class)
class OpenMldbUiTest {
    private UiFixture ui;
    private io.tabletop.connector.openmldb.OpenMldbTestCluster cluster;

    @Start
    void start(Stage stage) throws Exception {
        cluster = io.tabletop.connector.openmldb.OpenMldbTestCluster.seed002();
        ui = UiFixture.open(stage, SandboxConnector.instant(SandboxFixtures.small()), 1400, 900);
        ui.model().startPolling();
    }

    @AfterEach
    void stop() throws Exception {
        WaitForAsyncUtils.asyncFx(() -> ui.model().stopPolling()).get();
        WaitForAsyncUtils.asyncFx(() -> ui.model().close()).get();
        ui.close();
        cluster.close();
        Files.deleteIfExists(AppPaths.home().resolve("config").resolve("connections.json"));
    }

    /** Preview, confirm with {@code word}, run; the operator stops a tablet when its stop step runs; wait for the verify page. */
    private String previewConfirmRun(FxRobot robot, String word) throws Exception {
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(30, () -> !preview.isDisabled());
        robot.clickOn(preview);
        TableView<?> steps = robot.lookup("#plan-steps").queryAs(TableView.class);
        waitFor(() -> treeVisible(steps) && !steps.getItems().isEmpty());
        Button run = robot.lookup("#run").queryButton();
        robot.clickOn("#confirm").write(word);
        waitFor(() -> !run.isDisabled());
        robot.clickOn(run);
        TableView<?> runSteps = robot.lookup("#run-steps").queryAs(TableView.class);
        Button done = robot.lookup("#done").queryButton();
        waitFor(120, () -> {
            for (Object o : runSteps.getItems()) {
                StepRow r = (StepRow) o;
                if (r.step().type() == StepType.STOP_SERVER && r.stateProperty().get() == StepState.RUNNING) {
                    cluster.stopTablet(r.step().server().value()); // the operator runs the command the step shows
                }
            }
            return treeVisible(done) && !robot.lookup("#outcome").queryAs(Label.class).getText().isEmpty();
        });
        return robot.lookup("#outcome").queryAs(Label.class).getText();
    }

    @Test
    void scalesATabletInThenOutByClicking(FxRobot robot) throws Exception {
        robot.clickOn("#add-connection");
        @SuppressWarnings("unchecked")
        ComboBox<Object> engine = robot.lookup("#connection-engine").queryAs(ComboBox.class);
        WaitForAsyncUtils.asyncFx(() -> engine.setValue(engine.getItems().stream()
                .filter(p -> ((EngineProvider) p).engine() == Engine.OPENMLDB).findFirst().orElseThrow())).get();
        WaitForAsyncUtils.asyncFx(() -> robot.lookup("#connection-field-zookeeper").queryAs(TextField.class).setText(cluster.zkConnect())).get();
        Button add = robot.lookup("#connection-add").queryButton();
        waitFor(() -> !add.isDisabled());
        robot.clickOn(add);
        TableView<?> servers = robot.lookup("#servers").queryAs(TableView.class);
        waitFor(30, () -> ui.model().currentProperty().get() != null && cluster.spec().equals(ui.model().currentProperty().get().spec())
                && servers.getItems().size() == 3);
        assertEquals(7, ui.model().partitionCount());
        assertTrue(ui.model().servers().stream().allMatch(r -> r.leadersProperty().get() > 0), "every tablet leads some partition");

        waitFor(() -> robot.from(servers).lookup(".check-box").queryAll().size() >= 3);
        ServerId third = ServerId.of("127.0.2.3:10921");
        // the tick in the row of tablet 3 (cells are reused, so their order in the scene is not the rows' order)
        CheckBox tick = robot.from(servers).lookup(".check-box").queryAllAs(CheckBox.class).stream()
                .filter(b -> rowOf(b) != null && rowOf(b).id().equals(third)).findFirst().orElseThrow();
        robot.clickOn(tick);
        waitFor(() -> ui.model().selectedServers().equals(List.of(third)));
        robot.clickOn("#remove-selected");
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(30, () -> !preview.isDisabled());
        ListView<CheckResult> checks = robot.lookup("#checks").queryListView();
        assertTrue(checks.getItems().stream().anyMatch(c -> c.name().equals("Cluster health") && c.message().contains("auto_failover")),
                checks.getItems().toString());
        String scaledIn = previewConfirmRun(robot, third.value());
        assertTrue(scaledIn.startsWith("Done"), scaledIn);
        ListView<CheckResult> post = robot.lookup("#post-checks").queryListView();
        waitFor(() -> !post.getItems().isEmpty());
        assertTrue(post.getItems().stream().noneMatch(c -> c.verdict() == Verdict.BLOCK), post.getItems().toString());
        assertEquals(0, cluster.replicasOn(third.value()));
        assertTrue(cluster.autoFailover(), "auto_failover is back on after the run");
        shot(robot, "openmldb-scale-in-emulator");

        robot.clickOn("#done");
        String fourth = cluster.addTablet(4);
        waitFor(30, () -> ui.model().servers().stream().anyMatch(r -> r.id().value().equals(fourth) && r.isNewAndEmpty()));
        robot.clickOn("#scale-out");
        String scaledOut = previewConfirmRun(robot, "scale-out");
        assertTrue(scaledOut.startsWith("Done: replicas and leaders balanced onto " + fourth), scaledOut);
        assertTrue(cluster.replicasOn(fourth) > 0);
    }

    private static ServerRow rowOf(javafx.scene.Node n) {
        for (javafx.scene.Node p = n; p != null; p = p.getParent()) {
            if (p instanceof javafx.scene.control.TableRow<?> r && r.getItem() instanceof ServerRow s) {
                return s;
            }
        }
        return null;
    }

    private void shot(FxRobot robot, String name) throws Exception {
        Path out = Path.of("target", "screenshots");
        Files.createDirectories(out);
        WritableImage img = WaitForAsyncUtils.asyncFx(() -> ui.scene().getRoot().snapshot(null, null)).get();
        ImageIO.write(SwingFXUtils.fromFXImage(img, null), "png", out.resolve(name + ".png").toFile());
    }
}
