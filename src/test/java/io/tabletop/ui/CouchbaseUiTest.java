package io.tabletop.ui;

import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.Engine;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import io.tabletop.emulator.NsServerEmulator;
import io.tabletop.service.AppPaths;
import javafx.embed.swing.SwingFXUtils;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.PasswordField;
import javafx.scene.control.TableView;
import javafx.scene.control.TextField;
import javafx.scene.image.WritableImage;
import javafx.scene.layout.VBox;
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
import java.util.Set;

import static io.tabletop.ui.RemovalFlowUiTest.treeVisible;
import static io.tabletop.ui.RemovalFlowUiTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Couchbase removal by clicking, against the ns_server emulator: add the connection (password typed in
 * the dialog), see nodes and vBuckets, tick a node, pre-check, preview the forecast, run with a bar per
 * node, verify, export the review. Screenshots of the preview and the run go to target/screenshots,
 * labelled as the emulator's.
 */
@ExtendWith(ApplicationExtension.class)
class CouchbaseUiTest {
    private static final String PASSWORD = "ui-" + java.util.UUID.randomUUID();
    private UiFixture ui;
    private NsServerEmulator emu;

    @Start
    void start(Stage stage) throws Exception {
        emu = NsServerEmulator.builder().credentials("Administrator", PASSWORD).pace(6, 40)
                .dataNode(1).dataNode(2).dataNode(3).dataNode(4).bucketWithNodeItems("travel-sample", 2, 1024, 7_932, 7_895, 7_876, 7_888)
                .start();
        ui = UiFixture.open(stage, SandboxConnector.instant(SandboxFixtures.small()), 1400, 900);
    }

    @AfterEach
    void stop() throws Exception {
        WaitForAsyncUtils.asyncFx(() -> ui.model().stopPolling()).get();
        WaitForAsyncUtils.asyncFx(() -> ui.model().close()).get();
        ui.close();
        emu.close();
        Files.deleteIfExists(AppPaths.home().resolve("config").resolve("connections.json"));
    }

    @Test
    void removesANodeByClickingWithTheForecastFirstAndABarPerNode(FxRobot robot) throws Exception {
        robot.clickOn("#add-connection");
        @SuppressWarnings("unchecked")
        ComboBox<Object> engine = robot.lookup("#connection-engine").queryAs(ComboBox.class);
        WaitForAsyncUtils.asyncFx(() -> engine.setValue(engine.getItems().stream()
                .filter(p -> ((EngineProvider) p).engine() == Engine.COUCHBASE).findFirst().orElseThrow())).get();
        WaitForAsyncUtils.asyncFx(() -> {
            // the DBA types the very node they remove: it leaves and answers as a node of no cluster (no uuid; 404 to ?uuid=)
            robot.lookup("#connection-field-hosts").queryAs(TextField.class).setText(emu.hosts().get(3));
            robot.lookup("#connection-field-user").queryAs(TextField.class).setText("Administrator");
            robot.lookup("#connection-field-password").queryAs(PasswordField.class).setText(PASSWORD);
        }).get();
        Button add = robot.lookup("#connection-add").queryButton();
        waitFor(() -> !add.isDisabled());
        robot.clickOn(add);
        String spec = "couchbase://Administrator@" + emu.hosts().get(3);
        TableView<?> servers = robot.lookup("#servers").queryAs(TableView.class);
        waitFor(30, () -> ui.model().currentProperty().get() != null && spec.equals(ui.model().currentProperty().get().spec())
                && servers.getItems().size() == 4);
        assertEquals(1024, ui.model().partitionCount(), "every vBucket of the bucket is a partition");

        waitFor(() -> robot.from(servers).lookup(".check-box").queryAll().size() >= 4);
        List<CheckBox> ticks = robot.from(servers).lookup(".check-box").queryAllAs(CheckBox.class).stream().toList();
        robot.clickOn(ticks.get(3));
        ServerId node4 = ServerId.of(emu.otpNode(3));
        waitFor(() -> ui.model().selectedServers().equals(List.of(node4)));
        robot.clickOn("#remove-selected");
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(30, () -> !preview.isDisabled());
        ListView<CheckResult> checks = robot.lookup("#checks").queryListView();
        assertTrue(checks.getItems().stream().anyMatch(c -> c.name().equals("Replicas") && c.verdict() == Verdict.PASS), checks.getItems().toString());
        robot.clickOn(preview);

        TableView<?> forecast = robot.lookup("#forecast").queryAs(TableView.class);
        waitFor(() -> treeVisible(forecast) && forecast.getItems().size() == 5);
        ForecastView.Row n1 = (ForecastView.Row) forecast.getItems().get(1);
        assertTrue(n1.actives().startsWith("256 → 34"), n1.toString());
        assertTrue(((ForecastView.Row) forecast.getItems().get(4)).note().contains("ejected"), forecast.getItems().toString());
        shot(robot.lookup("#preview-views").query(), "couchbase-preview-emulator");

        robot.clickOn("#confirm").write(node4.value());
        Button run = robot.lookup("#run").queryButton();
        waitFor(() -> !run.isDisabled());
        robot.clickOn(run);
        VBox perNode = robot.lookup("#per-node-progress").queryAs(VBox.class);
        waitFor(60, () -> perNode.getChildren().size() == 4);
        // the emulator moves 6 vBuckets per 40 ms per bucket: a few seconds in, every node's bar has moved
        waitFor(60, () -> perNode.lookupAll(".progress-bar").stream().allMatch(b -> ((javafx.scene.control.ProgressBar) b).getProgress() > 0.3));
        shot(ui.scene().getRoot(), "couchbase-run-emulator");

        Button done = robot.lookup("#done").queryButton();
        waitFor(120, () -> treeVisible(done) && !robot.lookup("#outcome").queryAs(Label.class).getText().isEmpty());
        String outcome = robot.lookup("#outcome").queryAs(Label.class).getText();
        assertTrue(outcome.startsWith("Done"), outcome);
        ListView<CheckResult> post = robot.lookup("#post-checks").queryListView();
        assertTrue(post.getItems().stream().noneMatch(c -> c.verdict() == Verdict.BLOCK), post.getItems().toString());
        assertTrue(post.getItems().stream().anyMatch(c -> c.name().equals("Forecast and result")), post.getItems().toString());
        assertTrue(!emu.members().contains(node4.value()), "node 4 left the cluster");
        // the console goes on through a member that stays, and says which
        waitFor(30, () -> ui.model().healthTextProperty().get().contains(" · through ")
                && emu.hosts().stream().anyMatch(h -> ui.model().healthTextProperty().get().endsWith(" · through " + h)));

        Path reviews = AppPaths.home().resolve("reviews");
        Set<Path> earlier = Files.exists(reviews) ? Set.copyOf(Files.list(reviews).toList()) : Set.of();
        robot.clickOn("#export-review-done");
        waitFor(30, () -> Files.exists(reviews) && Files.list(reviews).anyMatch(d -> !earlier.contains(d) && Files.exists(d.resolve("review.html"))));
        Path bundle = Files.list(reviews).filter(d -> !earlier.contains(d)).findFirst().orElseThrow();
        String md = Files.readString(bundle.resolve("review.md"));
        assertTrue(md.contains("## Forecast: bucket travel-sample"), "the forecast is in the review");
        assertTrue(!md.contains(PASSWORD));
    }

    private static void shot(Node node, String name) throws Exception {
        Path out = Path.of("target", "screenshots");
        Files.createDirectories(out);
        WritableImage img = WaitForAsyncUtils.asyncFx(() -> node.snapshot(null, null)).get();
        ImageIO.write(SwingFXUtils.fromFXImage(img, null), "png", out.resolve(name + ".png").toFile());
    }
}
