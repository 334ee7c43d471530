package io.tabletop.ui;

import io.tabletop.service.Runs;
import javafx.beans.binding.Bindings;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.control.Tooltip;
import javafx.scene.input.Clipboard;
import javafx.scene.input.ClipboardContent;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Recorded runs, newest first, with their state (from each run's journal) and what to do next: an
 * interrupted or failed run is continued with {@code tabletop resume}, undone with {@code tabletop restore}.
 */
final class RunsView extends VBox {
    private static final Logger LOG = Logger.getLogger(RunsView.class.getName());
    private final Runs runs;
    private final TaskRunner runner;
    private final ObservableList<Runs.RunInfo> rows = FXCollections.observableArrayList();
    private final TableView<Runs.RunInfo> table = new TableView<>(rows);
    private final Label note = new Label();
    /** The audit log's state: chain, head file and the runs' anchors ({@code tabletop audit} in a line). */
    private final Label audit = new Label();

    RunsView(Runs runs, TaskRunner runner, Consumer<Runs.RunInfo> onResume, Consumer<Runs.RunInfo> onRestore) {
        this.runs = runs;
        this.runner = runner;
        setId("runs-view");
        setSpacing(8);
        getStyleClass().add("pane");
        table.setId("runs-table");
        table.setPlaceholder(new Label("No runs yet. Every removal you run is recorded here, with its journal."));
        table.getColumns().add(column("Run", 200, r -> r.record().runId()));
        table.getColumns().add(column("Started (UTC)", 150, r -> r.record().startedAt().toString().replace('T', ' ').substring(0, 19)));
        table.getColumns().add(column("State", 110, Runs.RunInfo::state));
        table.getColumns().add(column("Steps done", 90, r -> String.valueOf(r.record().succeeded())));
        table.getColumns().add(column("Attempts", 80, r -> String.valueOf(r.record().attempts())));
        table.getColumns().add(column("Cluster", 160, r -> r.record().cluster()));
        table.getColumns().add(column("Goal", 180, r -> r.record().goalSummary()));
        table.getColumns().add(column("Next", 300, RunsView::next));
        VBox.setVgrow(table, Priority.ALWAYS);
        Button refresh = new Button("Refresh");
        refresh.setId("runs-refresh");
        refresh.setOnAction(e -> refresh());
        Button copy = new Button("Copy command");
        copy.setId("runs-copy");
        copy.disableProperty().bind(table.getSelectionModel().selectedItemProperty().isNull());
        copy.setOnAction(e -> {
            Runs.RunInfo r = table.getSelectionModel().getSelectedItem();
            if (r != null && !next(r).isEmpty()) {
                ClipboardContent c = new ClipboardContent();
                c.putString(next(r));
                Clipboard.getSystemClipboard().setContent(c);
                note.setText("Copied: " + next(r));
            }
        });
        Button resume = new Button("Resume");
        resume.setId("runs-resume");
        resume.setTooltip(new Tooltip("Continue the selected run here, with the same pre-check, preview and progress "
                + "(it re-plans what is left from the live cluster)"));
        resume.disableProperty().bind(Bindings.createBooleanBinding(() -> {
            Runs.RunInfo r = table.getSelectionModel().getSelectedItem();
            return r == null || !r.resumable();
        }, table.getSelectionModel().selectedItemProperty()));
        resume.setOnAction(e -> onResume.accept(table.getSelectionModel().getSelectedItem()));
        Button restore = new Button("Restore…");
        restore.setId("runs-restore");
        restore.setTooltip(new Tooltip("Plan putting every replica and leader back where they were before the "
                + "selected run, and preview it"));
        restore.disableProperty().bind(Bindings.createBooleanBinding(() -> {
            Runs.RunInfo r = table.getSelectionModel().getSelectedItem();
            return r == null || r.state().equals("RUNNING");
        }, table.getSelectionModel().selectedItemProperty()));
        restore.setOnAction(e -> onRestore.accept(table.getSelectionModel().getSelectedItem()));
        Region grow = new Region();
        HBox.setHgrow(grow, Priority.ALWAYS);
        note.getStyleClass().add(Styles.MUTED);
        Label where = new Label("Journals: " + runs.runsDir());
        where.getStyleClass().add(Styles.MUTED);
        audit.setId("audit-state");
        audit.setWrapText(true);
        getChildren().addAll(new HBox(8, where, grow, refresh, resume, restore, copy), table, note, audit);
    }

    /** The command that continues the run, when there is one. */
    static String next(Runs.RunInfo r) {
        if (r.record().damaged()) {
            return "journal " + r.record().damage().describe();
        }
        if (!r.resumable()) {
            return r.state().equals("RUNNING") ? "running (process " + r.record().pid() + ")" : "";
        }
        if (!Runs.outlivesProcess(r.record())) {
            return "Resume here while this console runs; a sandbox run ends with its console";
        }
        return "tabletop resume " + r.record().runId() + " --yes";
    }

    private static TableColumn<Runs.RunInfo, String> column(String title, double width, Function<Runs.RunInfo, String> value) {
        TableColumn<Runs.RunInfo, String> c = new TableColumn<>(title);
        c.setPrefWidth(width);
        c.setCellValueFactory(d -> new ReadOnlyStringWrapper(value.apply(d.getValue())));
        return c;
    }

    void refresh() {
        runner.background("list runs", () -> {
            List<String> problems = new ArrayList<>();
            List<Runs.RunInfo> all = runs.list(problems);
            problems.forEach(p -> LOG.warning("DAMAGED run " + p));
            String auditState;
            try {
                var report = runs.checkAudit();
                auditState = (report.intact() ? "Audit log: " : "Audit log PROBLEM: ") + report.summary(runs.auditAnchors());
            } catch (java.io.IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "cannot check the audit log", e);
                auditState = "Audit log: cannot be read (" + e.getMessage() + ")";
            }
            return new Object[]{all, problems, auditState};
        }, result -> {
            @SuppressWarnings("unchecked")
            List<Runs.RunInfo> all = (List<Runs.RunInfo>) result[0];
            @SuppressWarnings("unchecked")
            List<String> problems = (List<String>) result[1];
            rows.setAll(all);
            note.setText(all.size() + " run(s)" + (problems.isEmpty() ? "" : "; " + problems.size() + " DAMAGED (its journal cannot be read: the line and why are in Next)"));
            audit.setText((String) result[2]);
            audit.pseudoClassStateChanged(javafx.css.PseudoClass.getPseudoClass("problem"), ((String) result[2]).contains("PROBLEM"));
        }, t -> {
            LOG.log(Level.WARNING, "cannot list runs", t);
            note.setText("Cannot list runs: " + t.getMessage());
        });
    }
}
