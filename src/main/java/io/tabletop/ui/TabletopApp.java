package io.tabletop.ui;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.service.Connections;
import io.tabletop.service.LogSetup;
import io.tabletop.service.RemovalService;
import javafx.application.Application;
import javafx.beans.binding.Bindings;
import javafx.scene.Scene;
import javafx.stage.Stage;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The console. Opens on the built-in sandbox; {@link #stop()} stops every pool, every connector and every
 * local cluster the console started.
 */
public final class TabletopApp extends Application {
    private static final Logger LOG = Logger.getLogger(TabletopApp.class.getName());
    /** Handed over by {@link #launch(Connections, String...)}: JavaFX creates the application object itself. */
    private static volatile Connections connections;

    private UiRunner runner;
    private MainViewModel model;
    private Stage stage;
    private MainView view;

    /** Starts the console with these engines; returns when the window has closed. */
    public static void launch(Connections c, String... args) {
        connections = c;
        Application.launch(TabletopApp.class, args);
    }

    @Override
    public void start(Stage stage) {
        LogSetup.init();
        io.tabletop.service.PrivateData.tooOpenNotReported().forEach(LOG::warning);
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> LOG.log(Level.SEVERE, "uncaught in " + t.getName(), e));
        if (connections == null) {
            throw new IllegalStateException("start the console through io.tabletop.Main");
        }
        runner = new UiRunner();
        ClusterConnector sandbox;
        try {
            sandbox = connections.open("sandbox");
        } catch (ConnectorException e) {
            throw new IllegalStateException("the built-in sandbox did not open", e);
        }
        model = new MainViewModel(runner, connections, sandbox.name(), sandbox);
        model.loadSavedConnections();
        MainView view = new MainView(model, new RemovalService(), runner);
        io.tabletop.service.UiSettings settings = io.tabletop.service.UiSettings.load(io.tabletop.service.UiSettings.defaultFile());
        // The remembered place, moved and shrunk so the whole window is on a screen that is there now.
        java.util.List<javafx.stage.Screen> there = settings.placed()
                ? javafx.stage.Screen.getScreensForRectangle(settings.x(), settings.y(), 100, 100) : java.util.List.of();
        javafx.geometry.Rectangle2D screen = (there.isEmpty() ? javafx.stage.Screen.getPrimary() : there.get(0)).getVisualBounds();
        double width = Math.min(settings.width(), screen.getWidth());
        double height = Math.min(settings.height(), screen.getHeight());
        Scene scene = new Scene(view, width, height);
        scene.getStylesheets().add(getClass().getResource(Styles.STYLESHEET).toExternalForm());
        view.installShortcuts();
        stage.titleProperty().bind(Bindings.concat("Tabletop " + io.tabletop.service.AppInfo.version() + " — ", model.currentProperty().asString()));
        stage.getIcons().setAll(Icons.appIcons());
        stage.setScene(scene);
        if (!there.isEmpty()) {
            stage.setX(Math.max(screen.getMinX(), Math.min(settings.x(), screen.getMaxX() - width)));
            stage.setY(Math.max(screen.getMinY(), Math.min(settings.y(), screen.getMaxY() - height)));
        }
        stage.setMaximized(settings.maximized());
        view.applySettings(settings);
        this.stage = stage;
        this.view = view;
        stage.show();
        model.startPolling();
        String probe = System.getenv("TABLETOP_STARTUP_PROBE");
        if (probe != null && !probe.isBlank()) {
            javafx.application.Platform.runLater(() -> startupProbe(view, java.nio.file.Path.of(probe)));
        }
    }

    /**
     * For the package smoke test and the start-up measurement ({@code TABLETOP_STARTUP_PROBE=FILE.png}): once
     * the first window is up, prints the time since the JVM started, writes the window as a PNG and exits.
     */
    private void startupProbe(MainView view, java.nio.file.Path png) {
        long ms = System.currentTimeMillis() - java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
        try {
            java.nio.file.Files.write(png, OperationView.png2x(view));
            System.out.println("first window after " + ms + " ms; window written to " + png);
        } catch (java.io.IOException | RuntimeException e) {
            System.out.println("first window after " + ms + " ms; the window could not be written: " + e.getMessage());
        }
        stage.close();
        javafx.application.Platform.exit();
    }

    /** Saves the window's place and size, the theme, the splitters and the last connection; never a secret. */
    private void saveSettings() {
        if (stage == null || view == null) {
            return;
        }
        io.tabletop.service.UiSettings base = new io.tabletop.service.UiSettings(stage.getX(), stage.getY(),
                stage.getScene().getWidth(), stage.getScene().getHeight(), stage.isMaximized(), false, null, java.util.Map.of());
        try {
            view.captureSettings(base).save(io.tabletop.service.UiSettings.defaultFile());
        } catch (java.io.IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "the console's settings were not saved", e);
        }
    }

    @Override
    public void stop() {
        saveSettings();
        if (model != null) {
            model.close(); // every connector, and every local cluster the console started
        }
        if (runner != null) {
            runner.shutdown();
        }
    }
}
