package io.tabletop.ui;

import io.tabletop.Main;
import io.tabletop.connector.EngineProvider;
import io.tabletop.domain.Engine;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Connections;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.TableView;
import javafx.scene.control.TextField;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.tabletop.ui.RemovalFlowUiTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** "Add connection…" is built from each engine's form; saved connections come back; bad input is one clear line. */
@ExtendWith(ApplicationExtension.class)
class ConnectionUiTest {
    private UiFixture ui;
    private final Path saved = AppPaths.home().resolve("config").resolve("connections.json");

    @Start
    void start(Stage stage) throws Exception {
        Files.deleteIfExists(saved);
        ui = UiFixture.open(stage, SandboxConnector.instant(SandboxFixtures.small()), 1300, 850);
    }

    @AfterEach
    void stop() throws Exception {
        WaitForAsyncUtils.asyncFx(() -> ui.model().stopPolling()).get();
        WaitForAsyncUtils.asyncFx(() -> ui.model().close()).get();
        ui.close();
        Files.deleteIfExists(saved);
    }

    @Test
    void aKuduConnectionIsCheckedSavedAndAnUnreachableClusterIsOneClearLine(FxRobot robot) throws Exception {
        robot.clickOn("#add-connection");
        TextField masters = robot.lookup("#connection-field-masters").queryAs(TextField.class);
        Button add = robot.lookup("#connection-add").queryButton();
        Label problem = robot.lookup("#connection-problem").queryAs(Label.class);
        WaitForAsyncUtils.asyncFx(() -> masters.setText("127.0.0.1")).get();
        waitFor(() -> add.isDisabled() && problem.getText().contains("is not HOST:PORT"));
        // Nothing listens on port 1 of loopback: the connection is added, and opening it fails cleanly.
        WaitForAsyncUtils.asyncFx(() -> {
            masters.setText("127.0.0.1:1");
            robot.lookup("#connection-field-web").queryAs(TextField.class).setText("127.0.0.1:1");
        }).get();
        waitFor(() -> !add.isDisabled());
        robot.clickOn(add);

        ListView<?> list = robot.lookup("#connections").queryAs(ListView.class);
        waitFor(() -> list.getItems().stream().anyMatch(c -> c.toString().equals("kudu://127.0.0.1:1?web=127.0.0.1:1")));
        waitFor(60, () -> ui.model().errorProperty().get().startsWith("Cannot open kudu://127.0.0.1:1")
                || ui.model().healthTextProperty().get().startsWith("Cannot read the cluster"));
        String shown = ui.model().errorProperty().get();
        assertFalse(shown.contains("Exception") || shown.contains("\tat ") || shown.contains("\n"), shown);
        assertTrue(Files.readString(saved).contains("kudu://127.0.0.1:1?web=127.0.0.1:1"), "saved for the next start");

        // The next console start lists it again.
        MainViewModel next = WaitForAsyncUtils.asyncFx(() -> {
            MainViewModel m = new MainViewModel(new UiRunner(), new Connections(Main.registry()), "first", null);
            m.loadSavedConnections();
            return m;
        }).get();
        assertTrue(next.connections().stream().anyMatch(c -> "kudu://127.0.0.1:1?web=127.0.0.1:1".equals(c.spec()) && c.saved()));
    }

    @Test
    void theSandboxFormOpensAnotherBuiltInCluster(FxRobot robot) throws Exception {
        robot.clickOn("#add-connection");
        ComboBox<?> engine = robot.lookup("#connection-engine").queryAs(ComboBox.class);
        WaitForAsyncUtils.asyncFx(() -> {
            @SuppressWarnings("unchecked")
            ComboBox<Object> e = (ComboBox<Object>) engine;
            e.setValue(e.getItems().stream().filter(p -> ((EngineProvider) p).engine() == Engine.SANDBOX).findFirst().orElseThrow());
        }).get();
        @SuppressWarnings("unchecked")
        ComboBox<String> fixture = robot.lookup("#connection-field-fixture").queryAs(ComboBox.class);
        @SuppressWarnings("unchecked")
        ComboBox<String> speed = robot.lookup("#connection-field-speed").queryAs(ComboBox.class);
        WaitForAsyncUtils.asyncFx(() -> {
            fixture.setValue("baseline");
            speed.setValue("instant");
        }).get();
        robot.clickOn("#connection-add");
        TableView<?> servers = robot.lookup("#servers").queryAs(TableView.class);
        waitFor(() -> "sandbox:baseline:instant".equals(ui.model().currentProperty().get().spec()) && servers.getItems().size() == 5);
        assertEquals(60, ui.model().partitionCount());
    }

    /** F1 shows the pom's version, the log file and the licenses; the theme and splitter round-trip through the settings. */
    @Test
    void aboutShowsThePomVersionAndTheSettingsComeBack(FxRobot robot) throws Exception {
        robot.press(javafx.scene.input.KeyCode.F1).release(javafx.scene.input.KeyCode.F1);
        waitFor(() -> robot.lookup("#about-version").tryQuery().isPresent());
        assertEquals(io.tabletop.store.BuildInfoTest.pomVersion(), robot.lookup("#about-version").queryAs(Label.class).getText());
        assertEquals(AppPaths.logFile().toString(), robot.lookup("#about-log-file").queryAs(Label.class).getText());
        assertTrue(robot.lookup("#third-party").queryAs(javafx.scene.control.TextArea.class).getText().contains("javafx-controls"));
        WaitForAsyncUtils.asyncFx(() -> robot.lookup("#third-party").query().getScene().getWindow().hide()).get();

        robot.clickOn("#theme");
        io.tabletop.service.UiSettings saved = WaitForAsyncUtils.asyncFx(() -> {
            javafx.scene.control.SplitPane split = robot.lookup("#servers-split").queryAs(javafx.scene.control.SplitPane.class);
            split.setDividerPositions(0.3);
            return ui.view().captureSettings(io.tabletop.service.UiSettings.defaults());
        }).get();
        assertTrue(saved.dark());
        assertEquals(0.3, saved.dividers().get("servers-split"), 0.02);
        Path file = AppPaths.home().resolve("config-test").resolve("settings.properties");
        saved.save(file);
        io.tabletop.service.UiSettings back = io.tabletop.service.UiSettings.load(file);
        assertEquals(saved, back);
        WaitForAsyncUtils.asyncFx(() -> {
            robot.lookup("#theme").queryAs(javafx.scene.control.ToggleButton.class).setSelected(false);
            ui.view().applySettings(back);
        }).get();
        assertTrue(robot.lookup("#theme").queryAs(javafx.scene.control.ToggleButton.class).isSelected(), "the dark theme comes back");
        assertTrue(ui.scene().getRoot().getStyleClass().contains("dark"));
    }
}
