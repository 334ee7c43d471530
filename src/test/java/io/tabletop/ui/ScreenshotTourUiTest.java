package io.tabletop.ui;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ServerId;
import javafx.embed.swing.SwingFXUtils;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.TabPane;
import javafx.scene.control.TableView;
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
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static io.tabletop.ui.RemovalFlowUiTest.treeVisible;
import static io.tabletop.ui.RemovalFlowUiTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Renders every screen of the console on the demo cluster and checks each image really rendered.
 * The images land in target/screenshots; the README's come from here.
 */
@ExtendWith(ApplicationExtension.class)
class ScreenshotTourUiTest {
    private static final Path OUT = Path.of("target", "screenshots");
    private SandboxConnector sandbox;
    private UiFixture ui;
    private MainViewModel model;
    private MainView view;
    private Scene scene;

    @Start
    void start(Stage stage) {
        ui = UiFixture.open(stage, SandboxConnector.manual(SandboxFixtures.standard()), 1440, 900);
        sandbox = ui.sandbox();
        model = ui.model();
        view = ui.view();
        scene = ui.scene();
        model.refresh();
    }

    @AfterEach
    void stop() {
        ui.close();
    }

    @Test
    void everyScreenRendersOnTheDemoCluster(FxRobot robot) throws Exception {
        Files.createDirectories(OUT);
        TableView<?> servers = robot.lookup("#servers").queryAs(TableView.class);
        waitFor(() -> servers.getItems().size() == 6);
        shoot("main-window");

        TabPane tabs = view.tabs();
        WaitForAsyncUtils.asyncFx(() -> {
            model.tableFilterProperty().set("orders");
            tabs.getSelectionModel().select(1);
        }).get();
        shoot("partitions");
        WaitForAsyncUtils.asyncFx(() -> {
            model.tableFilterProperty().set(MainViewModel.ALL_TABLES);
            tabs.getSelectionModel().select(0);
        }).get();

        WaitForAsyncUtils.asyncFx(() -> model.servers().stream().filter(r -> r.id().equals(ServerId.of("ts-3")))
                .forEach(r -> r.selectedProperty().set(true))).get();
        robot.clickOn("#remove-selected");
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(() -> !preview.isDisabled());
        shoot("precheck");
        robot.clickOn(preview);
        waitFor(() -> treeVisible(robot.lookup("#plan-steps").query()));
        robot.clickOn("#confirm").write("ts-3");
        shoot("preview");
        robot.clickOn("Placement changes");
        waitFor(() -> treeVisible(robot.lookup("#plan-changes").query()));
        shoot("preview-changes");
        robot.clickOn("Replicas and leaders, before → after");

        robot.clickOn("#run");
        // Move virtual time on by a third of the estimate: a run in full swing.
        // Move virtual time on until the drain is in full swing, then a little more so bars are part-filled.
        waitFor(() -> {
            sandbox.cluster().clock().advanceBy(500);
            return sandbox.cluster().completedMoves() >= 30 && runningTasksShown();
        });
        sandbox.cluster().clock().advanceBy(1_100);
        WaitForAsyncUtils.waitForFxEvents(5);
        shoot("run");

        Button done = robot.lookup("#done").queryButton();
        waitFor(120, () -> {
            sandbox.cluster().clock().advanceBy(60_000);
            return treeVisible(done);
        });
        WaitForAsyncUtils.waitForFxEvents(5);
        shoot("verify");

        robot.clickOn(done);
        WaitForAsyncUtils.asyncFx(() -> tabs.getSelectionModel().select(2)).get();
        waitFor(() -> !robot.lookup("#placement-grid").queryAs(TableView.class).getItems().isEmpty());
        shoot("placement");
        WaitForAsyncUtils.asyncFx(() -> scene.getRoot().getStyleClass().add("dark")).get();
        shoot("placement-dark");
        WaitForAsyncUtils.asyncFx(() -> scene.getRoot().getStyleClass().remove("dark")).get();
        WaitForAsyncUtils.asyncFx(() -> tabs.getSelectionModel().select(3)).get();
        TableView<?> runs = robot.lookup("#runs-table").queryAs(TableView.class);
        waitFor(() -> !runs.getItems().isEmpty());
        WaitForAsyncUtils.asyncFx(() -> runs.getSelectionModel().select(0)).get();
        shoot("runs");

        // Scale-out: a server joins, "Balance onto new servers…" previews filling it.
        WaitForAsyncUtils.asyncFx(() -> tabs.getSelectionModel().select(0)).get();
        robot.clickOn("#add-server");
        waitFor(() -> model.servers().stream().anyMatch(ServerRow::isNewAndEmpty));
        shoot("scale-out-new-server");
        robot.clickOn("#scale-out");
        Button scalePreview = robot.lookup("#preview").queryButton();
        waitFor(() -> !scalePreview.isDisabled());
        robot.clickOn(scalePreview);
        waitFor(() -> treeVisible(robot.lookup("#plan-steps").query()));
        shoot("scale-out-preview");
        robot.clickOn("← Back");
        robot.clickOn("Close");

        // Rebalance with a bound on moves.
        robot.clickOn("#rebalance");
        robot.clickOn("#bound-moves");
        Button rebalancePreview = robot.lookup("#preview").queryButton();
        waitFor(() -> !rebalancePreview.isDisabled());
        shoot("rebalance-precheck");
        robot.clickOn("Close");

        // The connection dialog, built from the chosen engine's form.
        ConnectionDialog dialog = WaitForAsyncUtils.asyncFx(() -> {
            ConnectionDialog d = new ConnectionDialog(model.engines().registry().providers(), scene.getWindow());
            d.show();
            return d;
        }).get();
        WaitForAsyncUtils.waitForFxEvents(3);
        shootNode("connection-dialog", dialog.getDialogPane());
        WaitForAsyncUtils.asyncFx(dialog::close).get();
    }

    /** A node on its own (a dialog), at its own size. */
    private void shootNode(String name, javafx.scene.Node node) throws Exception {
        WritableImage img = WaitForAsyncUtils.asyncFx(() -> node.snapshot(null, null)).get();
        BufferedImage png = SwingFXUtils.fromFXImage(img, null);
        ImageIO.write(png, "png", OUT.resolve(name + ".png").toFile());
        assertTrue(png.getWidth() > 300 && png.getHeight() > 150, name + " rendered: " + png.getWidth() + "x" + png.getHeight());
    }

    private boolean runningTasksShown() throws Exception {
        return WaitForAsyncUtils.asyncFx(() -> sandbox.cluster().movesInFlight() >= 3).get();
    }

    private void shoot(String name) throws Exception {
        WaitForAsyncUtils.waitForFxEvents(3);
        WritableImage img = WaitForAsyncUtils.asyncFx(() -> scene.getRoot().snapshot(null, null)).get();
        BufferedImage png = SwingFXUtils.fromFXImage(img, null);
        Path file = OUT.resolve(name + ".png");
        ImageIO.write(png, "png", file.toFile());
        BufferedImage back = ImageIO.read(file.toFile());
        assertEquals(1440, back.getWidth());
        assertEquals(900, back.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < back.getHeight(); y += 3) {
            for (int x = 0; x < back.getWidth(); x += 3) {
                colours.add(back.getRGB(x, y));
            }
        }
        assertTrue(colours.size() > 100, name + " looks blank: " + colours.size() + " colours");
    }
}
