package io.tabletop.ui;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import javafx.scene.control.Label;
import javafx.scene.control.TableCell;
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

import static io.tabletop.ui.RemovalFlowUiTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The placement grid on the sandbox: a known partition's leader cell shows the leader mark. */
@ExtendWith(ApplicationExtension.class)
class PlacementUiTest {
    private SandboxConnector sandbox;
    private UiFixture ui;
    private MainViewModel model;

    @Start
    void start(Stage stage) {
        ui = UiFixture.open(stage, SandboxConnector.manual(SandboxFixtures.kuduBaseline()), 1400, 900);
        sandbox = ui.sandbox();
        model = ui.model();
        model.refresh();
    }

    @AfterEach
    void stop() {
        ui.close();
    }

    @Test
    void aKnownPartitionsLeaderCellShowsTheLeaderMark(FxRobot robot) throws Exception {
        ClusterSnapshot c = sandbox.snapshot();
        Partition p = c.partitions().get(17);
        ServerId leader = p.leader().orElseThrow();
        ServerId follower = p.replicas().stream().map(r -> r.server()).filter(s -> !s.equals(leader)).findFirst().orElseThrow();
        robot.clickOn("Placement");
        @SuppressWarnings("unchecked")
        TableView<PartitionRow> grid = robot.lookup("#placement-grid").queryAs(TableView.class);
        waitFor(() -> grid.getItems().size() == c.partitions().size());
        int row = -1;
        for (int i = 0; i < grid.getItems().size(); i++) {
            if (grid.getItems().get(i).id().equals(p.id().value())) {
                row = i;
            }
        }
        assertTrue(row >= 0, "the partition is in the grid");
        int target = row;
        WaitForAsyncUtils.asyncFx(() -> grid.scrollTo(target)).get();
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals("♛", cellText(robot, p.id().value(), leader));
        assertEquals("F", cellText(robot, p.id().value(), follower));
        assertTrue(robot.lookup(".placement-leader").queryAll().stream().allMatch(n -> ((TableCell<?, ?>) n).getText().equals("♛")),
                "every leader cell carries the mark, not only the colour");

        // The heatmap beside it counts the same replicas and leaders.
        long onLeader = c.partitions().stream().filter(x -> x.table().equals(p.table()) && x.isOn(leader)).count();
        long led = c.partitions().stream().filter(x -> x.table().equals(p.table()) && x.leader().map(leader::equals).orElse(false)).count();
        Label heat = robot.lookup("#heat-" + leader.value() + "-" + p.table().value()).queryAs(Label.class);
        assertEquals(onLeader + " / " + led, heat.getText());

        // Copy as image: the grid's context menu puts a PNG-able image on the clipboard.
        javafx.scene.control.ContextMenu menu = grid.getContextMenu();
        assertEquals("Copy as image", menu.getItems().get(0).getText());
        WaitForAsyncUtils.asyncFx(() -> {
            javafx.scene.input.Clipboard.getSystemClipboard().clear();
            menu.getItems().get(0).fire();
        }).get();
        javafx.scene.image.Image copied = WaitForAsyncUtils.asyncFx(() -> javafx.scene.input.Clipboard.getSystemClipboard().getImage()).get();
        assertTrue(copied != null, "an image is on the clipboard");
        assertEquals(grid.getWidth() * 2, copied.getWidth(), 2.0, "the grid at 2x");

        // Filtering on a server outlines its column.
        WaitForAsyncUtils.asyncFx(() -> model.serverFilterProperty().set(leader.value())).get();
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(grid.getColumns().stream().anyMatch(col -> leader.equals(col.getUserData())
                && col.getStyleClass().contains(PlacementView.SELECTED)));
    }

    @Test
    void searchThemeAndShortcuts(FxRobot robot) throws Exception {
        ClusterSnapshot c = sandbox.snapshot();
        waitFor(() -> model.servers().size() == 5);
        robot.clickOn("#search").write("ts-3").type(javafx.scene.input.KeyCode.ENTER);
        TableView<?> servers = robot.lookup("#servers").queryAs(TableView.class);
        waitFor(() -> servers.getSelectionModel().getSelectedItem() instanceof ServerRow r && r.id().value().equals("ts-3"));

        String pid = c.partitions().get(40).id().value();
        robot.doubleClickOn("#search").eraseText(4).write(pid).type(javafx.scene.input.KeyCode.ENTER);
        TableView<?> partitions = robot.lookup("#partitions").queryAs(TableView.class);
        waitFor(() -> partitions.getSelectionModel().getSelectedItem() instanceof PartitionRow r && r.id().equals(pid));
        assertTrue(RemovalFlowUiTest.treeVisible(partitions), "the partitions tab is shown");

        javafx.scene.Parent root = robot.lookup("#servers").query().getScene().getRoot();
        robot.press(javafx.scene.input.KeyCode.CONTROL).type(javafx.scene.input.KeyCode.T).release(javafx.scene.input.KeyCode.CONTROL);
        waitFor(() -> root.getStyleClass().contains("dark"));
        robot.press(javafx.scene.input.KeyCode.CONTROL).type(javafx.scene.input.KeyCode.DIGIT3).release(javafx.scene.input.KeyCode.CONTROL);
        waitFor(() -> RemovalFlowUiTest.treeVisible(robot.lookup("#placement-grid").query()));
        robot.clickOn("#theme");
        waitFor(() -> !root.getStyleClass().contains("dark"));
    }

    @Test
    void theCommandLineReviewRendersTheViewsOffScreen(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path snap = dir.resolve("b.json");
        io.tabletop.store.SnapshotJson.write(sandbox.snapshot(), snap);
        io.tabletop.service.ReviewImages.register(new OffscreenReviewImages());
        try {
            java.io.StringWriter out = new java.io.StringWriter();
            java.io.StringWriter err = new java.io.StringWriter();
            int code = io.tabletop.cli.TabletopCli.run(io.tabletop.Main.cliContext(), new String[]{"review", "--snapshot", snap.toString(), "--remove", "ts-2",
                    "--out", dir.resolve("bundle").toString()}, new java.io.PrintWriter(out), new java.io.PrintWriter(err));
            assertEquals(0, code, err.toString());
        } finally {
            io.tabletop.service.ReviewImages.register(null);
        }
        java.awt.image.BufferedImage chart = javax.imageio.ImageIO.read(dir.resolve("bundle/distribution.png").toFile());
        assertEquals(2400, chart.getWidth(), "rendered at 2x");
        assertEquals(840, chart.getHeight());
        assertTrue(RemovalFlowUiTest.distinctColours(chart) > 20, "not blank");
        for (String f : new String[]{"placement-changes.png", "heatmap-after.png"}) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(dir.resolve("bundle").resolve(f).toFile());
            assertTrue(img != null && img.getWidth() >= 1800 && RemovalFlowUiTest.distinctColours(img) > 10, f);
        }
        String html = java.nio.file.Files.readString(dir.resolve("bundle/review.html"));
        assertEquals(3, html.split("data:image/png;base64,", -1).length - 1, "the three images embedded");
    }

    private static String cellText(FxRobot robot, String partition, ServerId server) throws Exception {
        List<TableCell<?, ?>> cells = robot.lookup(".placement-cell").queryAll().stream().<TableCell<?, ?>>map(n -> (TableCell<?, ?>) n)
                .filter(cell -> cell.getTableRow() != null && cell.getTableRow().getItem() instanceof PartitionRow r
                        && r.id().equals(partition) && server.equals(cell.getTableColumn().getUserData()))
                .toList();
        assertEquals(1, cells.size(), "one cell for " + partition + " on " + server);
        return WaitForAsyncUtils.asyncFx(() -> cells.get(0).getText() == null ? "" : cells.get(0).getText()).get();
    }
}
