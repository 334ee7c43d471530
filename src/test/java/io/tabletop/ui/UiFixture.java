package io.tabletop.ui;

import io.tabletop.Main;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.service.Connections;
import io.tabletop.service.RemovalService;
import javafx.scene.Scene;
import javafx.stage.Stage;

/** The console on a sandbox, as the UI tests open it: a main view in a styled scene with its shortcuts. */
record UiFixture(SandboxConnector sandbox, UiRunner runner, MainViewModel model, MainView view, Scene scene) {

    static UiFixture open(Stage stage, SandboxConnector sandbox, double width, double height) {
        UiRunner runner = new UiRunner();
        MainViewModel model = new MainViewModel(runner, new Connections(Main.registry()), sandbox.name(), sandbox);
        MainView view = new MainView(model, new RemovalService(), runner);
        Scene scene = new Scene(view, width, height);
        scene.getStylesheets().add(UiFixture.class.getResource(Styles.STYLESHEET).toExternalForm());
        stage.setScene(scene);
        stage.show();
        view.installShortcuts();
        return new UiFixture(sandbox, runner, model, view, scene);
    }

    void close() {
        runner.shutdown();
        sandbox.close();
    }
}
