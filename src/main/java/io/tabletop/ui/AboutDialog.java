package io.tabletop.ui;

import io.tabletop.service.AppPaths;
import io.tabletop.service.AppInfo;
import javafx.geometry.Insets;
import javafx.scene.control.ButtonType;
import javafx.scene.control.Dialog;
import javafx.scene.control.Label;
import javafx.scene.control.TextArea;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;

/** Help ▸ About (F1): the version from the pom, where Tabletop keeps its files and log, and the third-party notice. */
final class AboutDialog extends Dialog<Void> {
    AboutDialog() {
        setTitle("About Tabletop");
        setHeaderText("Tabletop " + AppInfo.version());
        GridPane facts = new GridPane();
        facts.setHgap(12);
        facts.setVgap(4);
        String[][] rows = {
                {"Version", AppInfo.version()},
                {"Java", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"},
                {"Log file", AppPaths.logFile().toString()},
                {"Data", AppPaths.home().toString()},
                {"Settings", AppInfo.configDir().toString()},
        };
        for (int i = 0; i < rows.length; i++) {
            Label k = new Label(rows[i][0]);
            k.getStyleClass().add(Styles.MUTED);
            Label v = new Label(rows[i][1]);
            v.setId("about-" + rows[i][0].toLowerCase(java.util.Locale.ROOT).replace(' ', '-'));
            facts.addRow(i, k, v);
        }
        TextArea notice = new TextArea(AppInfo.thirdPartyNotice());
        notice.setId("third-party");
        notice.setEditable(false);
        notice.setWrapText(false);
        notice.setPrefRowCount(14);
        notice.setPrefColumnCount(90);
        VBox.setVgrow(notice, Priority.ALWAYS);
        VBox box = new VBox(10, facts, new Label("Bundled libraries and their licenses:"), notice);
        box.setPadding(new Insets(10));
        getDialogPane().setContent(box);
        getDialogPane().getButtonTypes().setAll(ButtonType.CLOSE);
        setResizable(true);
    }
}
