package io.tabletop.ui;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.service.LogSetup;
import io.tabletop.service.RemovalService;
import javafx.application.Application;
import javafx.scene.Scene;
import javafx.stage.Stage;

import java.util.logging.Level;
import java.util.logging.Logger;

/** The console. Opens on the built-in sandbox; {@link #stop()} stops every pool and the sandbox clock. */
public final class TabletopApp extends Application {
    private static final Logger LOG = Logger.getLogger(TabletopApp.class.getName());

    private UiRunner runner;
    private MainViewModel model;
    private ClusterConnector connector;

    @Override
    public void start(Stage stage) {
        LogSetup.init();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> LOG.log(Level.SEVERE, "uncaught in " + t.getName(), e));
        runner = new UiRunner();
        connector = SandboxConnector.demo();
        model = new MainViewModel(runner, connector.name(), connector);
        model.loadSavedConnections();
        MainView view = new MainView(model, new RemovalService(), runner);
        Scene scene = new Scene(view, 1440, 900);
        scene.getStylesheets().add(getClass().getResource(Styles.STYLESHEET).toExternalForm());
        view.installShortcuts();
        stage.setTitle("Tabletop — " + connector.name());
        stage.getIcons().setAll(Icons.appIcons());
        stage.setScene(scene);
        stage.show();
        model.startPolling();
    }

    @Override
    public void stop() {
        if (model != null) {
            model.close(); // every connector, and the local Kudu cluster if one was started
        }
        if (runner != null) {
            runner.shutdown();
        }
    }
}
