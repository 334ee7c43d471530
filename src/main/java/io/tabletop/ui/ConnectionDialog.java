package io.tabletop.ui;

import io.tabletop.connector.ConnectionForm;
import io.tabletop.connector.EngineProvider;
import io.tabletop.domain.Engine;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.ButtonBar;
import javafx.scene.control.ButtonType;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Dialog;
import javafx.scene.control.Label;
import javafx.scene.control.PasswordField;
import javafx.scene.control.TextField;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.stage.FileChooser;
import javafx.stage.Window;
import javafx.util.StringConverter;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * "Add connection…": pick an engine, fill in the fields its provider declares. OK is allowed only when the
 * provider accepts the values; its reason shows under the fields. A secret field's value goes to the
 * connection in memory and is never saved.
 */
final class ConnectionDialog extends Dialog<ConnectionDialog.Result> {
    /** What the operator asked for: the spec, whether to keep it, and a typed secret (may be empty). */
    record Result(String spec, boolean save, char[] secret) {
    }

    private final ComboBox<EngineProvider> engine = new ComboBox<>();
    private final GridPane grid = new GridPane();
    private final Label problem = new Label();
    private final CheckBox save = new CheckBox("Save this connection (addresses and user only; never the password)");
    private final Map<String, Node> inputs = new LinkedHashMap<>();
    private String spec;

    ConnectionDialog(List<EngineProvider> providers, Window owner) {
        setTitle("Add a connection");
        setHeaderText("Which cluster? Its engine decides the fields.");
        initOwner(owner);
        engine.setId("connection-engine");
        engine.getItems().setAll(providers);
        engine.setConverter(new StringConverter<>() {
            @Override
            public String toString(EngineProvider p) {
                return p == null ? "" : p.displayName();
            }

            @Override
            public EngineProvider fromString(String s) {
                return null;
            }
        });
        problem.setId("connection-problem");
        problem.getStyleClass().add(Styles.ERROR_BANNER);
        problem.setWrapText(true);
        problem.visibleProperty().bind(problem.textProperty().isNotEmpty());
        problem.managedProperty().bind(problem.visibleProperty());
        save.setId("connection-save");
        save.setSelected(true);
        grid.setHgap(8);
        grid.setVgap(6);
        VBox box = new VBox(10, new Label("Engine"), engine, grid, save, problem);
        box.setPadding(new Insets(12));
        box.setPrefWidth(560);
        getDialogPane().setContent(box);
        ButtonType add = new ButtonType("Add", ButtonBar.ButtonData.OK_DONE);
        getDialogPane().getButtonTypes().setAll(add, ButtonType.CANCEL);
        getDialogPane().lookupButton(add).setId("connection-add");
        engine.valueProperty().addListener((o, a, p) -> build(p));
        providers.stream().filter(p -> p.engine() != Engine.SANDBOX).findFirst().or(() -> providers.stream().findFirst())
                .ifPresent(engine::setValue);
        getDialogPane().lookupButton(add).disableProperty().bind(problem.textProperty().isNotEmpty());
        setResultConverter(b -> b == add && spec != null ? new Result(spec, save.isSelected(), secret()) : null);
    }

    private void build(EngineProvider p) {
        grid.getChildren().clear();
        inputs.clear();
        if (p == null) {
            return;
        }
        int row = 0;
        for (ConnectionForm.Field f : p.form().fields()) {
            Node input = switch (f.kind()) {
                case SECRET -> new PasswordField();
                case CHOICE -> {
                    ComboBox<String> c = new ComboBox<>();
                    c.getItems().setAll(f.choices());
                    c.setValue(f.defaultValue().isEmpty() ? f.choices().get(0) : f.defaultValue());
                    c.valueProperty().addListener((o, a, b) -> validate());
                    yield c;
                }
                default -> {
                    TextField t = new TextField(f.defaultValue());
                    t.setPrefColumnCount(32);
                    t.textProperty().addListener((o, a, b) -> validate());
                    yield t;
                }
            };
            input.setId("connection-field-" + f.key());
            inputs.put(f.key(), input);
            Label hint = new Label(f.hint());
            hint.getStyleClass().add(Styles.MUTED);
            hint.setWrapText(true);
            Label label = new Label(f.label() + (f.required() ? " *" : ""));
            label.setMinWidth(Region.USE_PREF_SIZE);
            Node shown = input;
            if (f.kind() == ConnectionForm.Kind.FILE && input instanceof TextField t) {
                Button choose = new Button("Choose…");
                choose.setMinWidth(Region.USE_PREF_SIZE); // keeps its word; the path field gives way
                choose.setId("connection-choose-" + f.key());
                choose.setOnAction(e -> {
                    FileChooser fc = new FileChooser();
                    fc.setTitle(f.label());
                    java.io.File file = fc.showOpenDialog(getDialogPane().getScene().getWindow());
                    if (file != null) {
                        t.setText(file.getAbsolutePath());
                    }
                });
                HBox withButton = new HBox(6, t, choose);
                HBox.setHgrow(t, Priority.ALWAYS);
                shown = withButton;
            }
            grid.addRow(row++, label, shown);
            grid.add(hint, 1, row++);
        }
        validate();
        // another engine's form has other fields: the window follows, so its buttons stay on screen
        if (getDialogPane().getScene() != null && getDialogPane().getScene().getWindow() != null) {
            getDialogPane().getScene().getWindow().sizeToScene();
        }
    }

    private Map<String, String> values() {
        Map<String, String> out = new LinkedHashMap<>();
        inputs.forEach((k, n) -> {
            if (n instanceof PasswordField) {
                return; // never part of a spec
            }
            if (n instanceof TextField t) {
                out.put(k, t.getText());
            } else if (n instanceof ComboBox<?> c && c.getValue() != null) {
                out.put(k, c.getValue().toString());
            }
        });
        return out;
    }

    private char[] secret() {
        return inputs.values().stream().filter(n -> n instanceof PasswordField).map(n -> ((PasswordField) n).getText().toCharArray())
                .findFirst().orElse(new char[0]);
    }

    private void validate() {
        EngineProvider p = engine.getValue();
        try {
            spec = p.specFrom(values());
            problem.setText("");
        } catch (IllegalArgumentException e) {
            spec = null;
            problem.setText(e.getMessage());
        }
    }

    Optional<Result> ask() {
        return showAndWait();
    }
}
