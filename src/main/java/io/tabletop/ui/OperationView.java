package io.tabletop.ui;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Units;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.RemoveServers;
import javafx.application.Platform;
import javafx.beans.binding.Bindings;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.beans.property.SimpleStringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ListChangeListener;
import javafx.collections.MapChangeListener;
import javafx.concurrent.Task;
import javafx.embed.swing.SwingFXUtils;
import javafx.geometry.Insets;
import javafx.geometry.Orientation;
import javafx.geometry.Pos;
import javafx.scene.Node;
import javafx.scene.SnapshotParameters;
import javafx.scene.chart.BarChart;
import javafx.scene.chart.LineChart;
import javafx.scene.chart.NumberAxis;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Alert;
import javafx.scene.control.Button;
import javafx.scene.control.ButtonBar;
import javafx.scene.control.ButtonType;
import javafx.scene.control.CheckBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.ProgressBar;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.control.RadioButton;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.Spinner;
import javafx.scene.control.SplitPane;
import javafx.scene.control.Tab;
import javafx.scene.control.TabPane;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.control.TextField;
import javafx.scene.control.ToggleGroup;
import javafx.scene.control.Tooltip;
import javafx.scene.image.WritableImage;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;
import javafx.scene.transform.Transform;
import org.controlsfx.control.TaskProgressView;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.imageio.ImageIO;

/** An operation's flow (remove, scale out, rebalance, restore, resume): pre-check, preview and confirm, run, verify. Holds no logic. */
final class OperationView extends BorderPane {
    private final OperationViewModel model;
    private final Label[] stepper = {new Label("1  Pre-check"), new Label("2  Preview & confirm"), new Label("3  Run"), new Label("4  Verify")};

    OperationView(OperationViewModel model, Runnable onClose) {
        this.model = model;
        getStyleClass().add("removal-view");
        HBox header = new HBox(6);
        header.getStyleClass().add(Styles.STEPPER);
        for (Label l : stepper) {
            l.getStyleClass().add(Styles.STEPPER_ITEM);
            header.getChildren().add(l);
        }
        Node check = checkPage(onClose);
        Node preview = previewPage();
        Node run = runPage();
        Node done = donePage(onClose);
        StackPane pages = new StackPane(check, preview, run, done);
        setTop(header);
        setCenter(pages);
        model.stageProperty().addListener((o, a, s) -> show(s, check, preview, run, done));
        show(model.stageProperty().get(), check, preview, run, done);
    }

    private void show(OperationViewModel.Stage s, Node check, Node preview, Node run, Node done) {
        int page = switch (s) {
            case CHECKING, CHECKED -> 0;
            case PREVIEW -> 1;
            case RUNNING -> 2;
            case DONE -> 3;
        };
        Node[] nodes = {check, preview, run, done};
        for (int i = 0; i < nodes.length; i++) {
            nodes[i].setVisible(i == page);
            stepper[i].pseudoClassStateChanged(Styles.CURRENT, i == page);
            stepper[i].pseudoClassStateChanged(Styles.DONE, i < page);
        }
    }

    // ---- 1. pre-check ----------------------------------------------------------------------------

    private Node checkPage(Runnable onClose) {
        Label title = new Label();
        title.textProperty().bind(Bindings.createStringBinding(() -> "Pre-checks for " + model.operationProperty().get().purpose(),
                model.operationProperty()));
        title.getStyleClass().add(Styles.TITLE);
        ProgressIndicator spinner = new ProgressIndicator();
        spinner.setMaxSize(22, 22);
        spinner.visibleProperty().bind(model.stageProperty().isEqualTo(OperationViewModel.Stage.CHECKING));
        // A pre-check that waits on the engine (a resume following the ops a stopped run left running) says what it waits for.
        ProgressBar waitBar = new ProgressBar();
        waitBar.setId("checking-progress");
        waitBar.setPrefWidth(160);
        waitBar.progressProperty().bind(model.checkingProgressProperty());
        Label waitText = new Label();
        waitText.setId("checking-text");
        waitText.textProperty().bind(model.checkingTextProperty());
        HBox waiting = new HBox(8, waitBar, waitText);
        waiting.setAlignment(Pos.CENTER_LEFT);
        waiting.visibleProperty().bind(model.checkingTextProperty().isNotEmpty());
        waiting.managedProperty().bind(waiting.visibleProperty());
        ListView<CheckResult> list = new ListView<>(model.checks());
        list.setId("checks");
        list.setCellFactory(l -> Cells.check());
        VBox.setVgrow(list, Priority.ALWAYS);
        String balanceNote = model.balanceLeadersNote();
        CheckBox balance = new CheckBox("Even out leaders afterwards (leader transfers only, no data moves)"
                + (balanceNote.isEmpty() ? "" : "; " + balanceNote));
        balance.setVisible(model.operationProperty().get().offersBalanceLeaders());
        balance.setManaged(balance.isVisible());
        Spinner<Integer> maxMoves = new Spinner<>(0, 100_000, 20, 5);
        maxMoves.setId("max-moves");
        maxMoves.setEditable(true);
        maxMoves.setPrefWidth(110);
        CheckBox bound = new CheckBox("At most");
        bound.setId("bound-moves");
        maxMoves.disableProperty().bind(bound.selectedProperty().not());
        Runnable applyBound = () -> {
            model.maxMovesProperty().set(bound.isSelected() ? maxMoves.getValue() : -1);
            model.check();
        };
        bound.setOnAction(e -> applyBound.run());
        maxMoves.valueProperty().addListener((o, a, v) -> {
            if (bound.isSelected()) {
                applyBound.run();
            }
        });
        HBox bounds = new HBox(8, bound, maxMoves, new Label("replica moves (the most useful first); leader transfers are not counted"));
        bounds.setAlignment(Pos.CENTER_LEFT);
        bounds.setVisible(model.operationProperty().get().offersMaxMoves());
        bounds.setManaged(bounds.isVisible());
        balance.setId("balance-leaders");
        balance.selectedProperty().bindBidirectional(model.balanceLeadersProperty());
        balance.setOnAction(e -> model.check());
        ToggleGroup who = new ToggleGroup();
        boolean failover = model.failoverFirstOffered();
        RadioButton ours = new RadioButton(failover ? "The engine's rebalance ejects the servers (its usual way)"
                : "Tabletop's plan: every move chosen here and previewed");
        RadioButton engine = new RadioButton(failover ? "Graceful failover of the servers first, then the rebalance"
                : "The engine's own drain (its rebalancer, told to empty these servers): it picks the destinations");
        ours.setToggleGroup(who);
        engine.setToggleGroup(who);
        ours.setSelected(true);
        engine.setId("strategy-engine");
        engine.setMnemonicParsing(false); // the label shows a flag with underscores
        who.selectedToggleProperty().addListener((o, a, t) -> {
            model.strategyProperty().set(t != engine ? RemoveServers.Strategy.TABLETOP
                    : failover ? RemoveServers.Strategy.FAILOVER_FIRST : RemoveServers.Strategy.ENGINE);
            model.check();
        });
        HBox strategy = new HBox(16, new Label(failover ? "How:" : "Moves by:"), ours, engine);
        strategy.setVisible(model.engineDrainOffered());
        strategy.setManaged(strategy.isVisible());
        balance.disableProperty().bind(model.strategyProperty().isNotEqualTo(RemoveServers.Strategy.TABLETOP));
        Label verdict = new Label();
        verdict.setId("check-verdict");
        verdict.textProperty().bind(Bindings.createStringBinding(() -> switch (model.stageProperty().get()) {
            case CHECKING -> "Reading the cluster and planning…";
            default -> model.planProperty().get() == null
                    ? "Blocked: nothing will run. Read the reasons above."
                    : model.verdict() == Verdict.WARN
                    ? "Possible, with warnings: read them before you preview the plan."
                    : "All checks pass.";
        }, model.stageProperty(), model.planProperty(), model.checks()));
        Button close = new Button("Close");
        close.setOnAction(e -> onClose.run());
        Button again = new Button("Check again");
        again.setOnAction(e -> model.check());
        Button preview = new Button("Preview plan →");
        preview.setId("preview");
        preview.getStyleClass().add(Styles.PRIMARY);
        preview.setDefaultButton(true);
        preview.disableProperty().bind(model.planProperty().isNull()
                .or(model.stageProperty().isNotEqualTo(OperationViewModel.Stage.CHECKED)));
        preview.setOnAction(e -> model.preview());
        HBox buttons = new HBox(8, verdict, grow(), close, again, preview);
        buttons.setAlignment(Pos.CENTER_LEFT);
        Label offline = new Label("Offline snapshot: plan, preview and export a review here; connect to the cluster to run it.");
        offline.getStyleClass().add(Styles.MUTED);
        offline.setVisible(model.offline());
        offline.setManaged(offline.isVisible());
        CheckBox adaptive = new CheckBox("Adaptive moves per server, never above");
        adaptive.setTooltip(new javafx.scene.control.Tooltip("More moves at once while moves keep their pace; fewer when they slow down "
                + "or health degrades; every change is journaled with its reason"));
        adaptive.setId("adaptive");
        adaptive.selectedProperty().bindBidirectional(model.adaptiveProperty());
        Spinner<Integer> ceiling = new Spinner<>(1, 100, 10, 1);
        ceiling.setId("ceiling");
        ceiling.setEditable(true);
        ceiling.setPrefWidth(100);
        ceiling.setMinWidth(100);
        ceiling.disableProperty().bind(adaptive.selectedProperty().not());
        model.planProperty().addListener((o, a, p) -> {
            if (p != null && model.ceilingProperty().get() == 0) {
                ceiling.getValueFactory().setValue(2 * p.summary().maxMovesPerServer());
            }
        });
        ceiling.valueProperty().addListener((o, a, v) -> model.ceilingProperty().set(v));
        Label perServer = new Label();
        perServer.textProperty().bind(Bindings.createStringBinding(() -> model.planProperty().get() == null ? ""
                : "(the engine's default is " + model.planProperty().get().summary().maxMovesPerServer() + ")", model.planProperty()));
        HBox concurrency = new HBox(8, adaptive, ceiling, perServer);
        concurrency.setAlignment(Pos.CENTER_LEFT);
        concurrency.visibleProperty().bind(Bindings.createBooleanBinding(() -> model.planProperty().get() != null && !model.offline()
                && model.planProperty().get().steps().stream().anyMatch(st -> st.type() == StepType.MOVE_REPLICA), model.planProperty()));
        concurrency.managedProperty().bind(concurrency.visibleProperty());
        VBox box = new VBox(10, new HBox(10, title, spinner), waiting, offline, list, strategy, bounds, balance, concurrency, buttons);
        box.setPadding(new Insets(12));
        return box;
    }

    // ---- 2. preview --------------------------------------------------------------------------------

    private Node previewPage() {
        Label summary = new Label();
        summary.setId("plan-summary");
        summary.getStyleClass().add(Styles.SUMMARY);
        summary.setWrapText(true);
        summary.textProperty().bind(Bindings.createStringBinding(() -> {
            Plan p = model.planProperty().get();
            if (p == null) {
                return "";
            }
            Plan.Summary s = p.summary();
            return String.format("%d replica moves · %d leader transfers · %s to move · %d steps in %d phase(s) · estimated %s at up to %d moves per server",
                    s.replicaMoves(), s.leaderTransfers(), Units.bytes(s.bytesToMove()), p.steps().size(), p.phases().size(),
                    Units.duration(s.estimatedSeconds()), s.maxMovesPerServer());
        }, model.planProperty()));

        TableView<StepRow> steps = stepsTable(false);
        steps.setId("plan-steps");
        BarChart<String, Number> before = Charts.loadChart("Before");
        BarChart<String, Number> after = Charts.loadChart("After");
        before.setId("chart-before");
        after.setId("chart-after");
        model.planProperty().addListener((o, a, p) -> {
            if (p != null) {
                Set<ServerId> all = new LinkedHashSet<>(p.loadsBefore().keySet());
                Charts.show(before, all, p.loadsBefore());
                Charts.show(after, all, p.loadsAfter());
                Charts.shareScale(before, after); // side by side only compares on one scale
            }
        });
        HBox charts = new HBox(8, before, after);
        HBox.setHgrow(before, Priority.ALWAYS);
        HBox.setHgrow(after, Priority.ALWAYS);
        charts.setMinHeight(230);
        charts.setPrefHeight(260);
        TableView<PlanChangesView.ChangeRow> changes = PlanChangesView.grid();
        GridPane heat = new GridPane();
        ScrollPane heatPane = new ScrollPane(heat);
        model.planProperty().addListener((o, a, p) -> {
            if (p != null) {
                PlanChangesView.show(changes, p);
                PlanChangesView.heatmap(heat, p);
            }
        });
        TabPane views = new TabPane(
                new Tab("Replicas and leaders, before → after", charts),
                new Tab("Placement changes", changes),
                new Tab("Heatmap after (change)", heatPane));
        views.setId("preview-views");
        TableView<ForecastView.Row> forecast = ForecastView.table();
        Tab forecastTab = new Tab("Forecast per bucket", forecast);
        CopyAsImage.install(forecast);
        model.planProperty().addListener((o, a, p) -> {
            boolean has = p != null && !p.forecast().isEmpty();
            if (has) {
                ForecastView.show(forecast, p);
                if (!views.getTabs().contains(forecastTab)) {
                    views.getTabs().add(0, forecastTab); // the engine decides the moves: its forecast is what to review
                }
                views.getSelectionModel().select(forecastTab);
            } else {
                views.getTabs().remove(forecastTab);
            }
        });
        CopyAsImage.install(charts);
        CopyAsImage.install(changes);
        CopyAsImage.install(heat);
        CopyAsImage.install(steps);
        views.setTabClosingPolicy(TabPane.TabClosingPolicy.UNAVAILABLE);
        views.setMinHeight(230);
        views.setPrefHeight(280);
        SplitPane split = new SplitPane(steps, views);
        split.setOrientation(Orientation.VERTICAL);
        split.setDividerPositions(0.55);
        VBox.setVgrow(split, Priority.ALWAYS);

        Label prompt = new Label();
        prompt.textProperty().bind(model.offline() ? new SimpleStringProperty("Offline snapshot: Run is disabled")
                : Bindings.concat("Type ", model.confirmWordProperty(), " to confirm:"));
        TextField confirm = new TextField();
        confirm.setId("confirm");
        confirm.promptTextProperty().bind(model.confirmWordProperty());
        confirm.setDisable(model.offline());
        confirm.textProperty().bindBidirectional(model.confirmTextProperty());
        Button back = new Button("← Back");
        back.setOnAction(e -> model.back());
        Button run = new Button("Run");
        run.setId("run");
        run.getStyleClass().add(Styles.DANGER);
        run.disableProperty().bind(model.canRunBinding().not());
        run.setOnAction(e -> model.run());
        confirm.setOnAction(e -> model.run());
        model.stageProperty().addListener((o, a, s) -> {
            if (s == OperationViewModel.Stage.PREVIEW) {
                Platform.runLater(confirm::requestFocus); // after the page is shown
            }
        });
        Button export = exportButton("export-review-preview", OperationViewModel.Stage.PREVIEW, () -> {
            Map<String, byte[]> images = new LinkedHashMap<>(OffscreenReviewImages.renderOnFxThread(model.planProperty().get()));
            images.put("steps.png", png2x(steps));
            return images;
        });
        HBox bottom = new HBox(8, back, export, grow(), prompt, confirm, run);
        bottom.setAlignment(Pos.CENTER_LEFT);
        VBox box = new VBox(10, summary, split, bottom);
        box.setPadding(new Insets(12));
        return box;
    }

    private VBox doneBox;

    private VBox box() {
        return doneBox;
    }

    private final Map<OperationViewModel.Stage, Supplier<Map<String, byte[]>>> exports =
            new EnumMap<>(OperationViewModel.Stage.class);

    /** "Export review…": renders the page's views at 2x and writes the change-review bundle. */
    private Button exportButton(String id, OperationViewModel.Stage stage, Supplier<Map<String, byte[]>> images) {
        Button b = new Button("Export review…");
        b.setId(id);
        b.setTooltip(new Tooltip("Write review.md, review.html (images embedded), plan.json and the snapshots for the change review (Ctrl+E)"));
        exports.put(stage, images);
        b.setOnAction(e -> exportReview());
        return b;
    }

    /** Ctrl+E: the review of what the preview or the verify page shows now; nothing on other pages. */
    void exportReview() {
        var images = exports.get(model.stageProperty().get());
        if (images == null) {
            return;
        }
        Map<String, byte[]> imgs;
        try {
            imgs = images.get();
        } catch (RuntimeException ex) {
            Logger.getLogger(OperationView.class.getName()).log(Level.WARNING, "render for review", ex);
            imgs = Map.of();
        }
        model.exportReview(imgs);
    }

    /** The node as a PNG at twice its size, for readability in a review. */
    static byte[] png2x(Node n) {
        SnapshotParameters sp = new SnapshotParameters();
        sp.setTransform(Transform.scale(2, 2));
        WritableImage img = n.snapshot(sp, null);
        BufferedImage b = SwingFXUtils.fromFXImage(img, null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(b, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private TableView<StepRow> stepsTable(boolean withState) {
        TableView<StepRow> t = new TableView<>(model.steps());
        TableColumn<StepRow, Number> n = new TableColumn<>("#");
        n.setCellValueFactory(c -> new ReadOnlyObjectWrapper<>(c.getValue().step().index() + 1));
        n.setPrefWidth(48);
        TableColumn<StepRow, Number> phase = new TableColumn<>("Phase");
        phase.setCellValueFactory(c -> new ReadOnlyObjectWrapper<>(c.getValue().step().phase() + 1));
        phase.setPrefWidth(56);
        TableColumn<StepRow, String> type = new TableColumn<>("Step");
        type.setCellValueFactory(c -> new ReadOnlyStringWrapper(c.getValue().step().type().label()));
        TableColumn<StepRow, String> what = new TableColumn<>("Partition / server");
        what.setCellValueFactory(c -> {
            Step s = c.getValue().step();
            return new ReadOnlyStringWrapper(s.partition() != null ? s.partition().value()
                    : s.server() != null && s.type() != StepType.HEALTH_GATE ? s.server().value() : "");
        });
        TableColumn<StepRow, String> from = new TableColumn<>("From");
        from.setCellValueFactory(c -> new ReadOnlyStringWrapper(c.getValue().step().from() == null ? "" : c.getValue().step().from().value()));
        TableColumn<StepRow, String> to = new TableColumn<>("To");
        to.setCellValueFactory(c -> new ReadOnlyStringWrapper(c.getValue().step().to() == null ? "" : c.getValue().step().to().value()));
        TableColumn<StepRow, Number> size = new TableColumn<>("Data");
        size.setCellValueFactory(c -> new ReadOnlyObjectWrapper<>(c.getValue().step().bytes()));
        size.setCellFactory(c -> Cells.bytesOrBlank());
        type.setPrefWidth(130);
        what.setPrefWidth(150);
        TableColumn<StepRow, String> reason = new TableColumn<>("Why");
        reason.setCellValueFactory(c -> new ReadOnlyStringWrapper(c.getValue().step().reason()));
        reason.setPrefWidth(420);
        if (withState) {
            TableColumn<StepRow, StepState> state = new TableColumn<>("State");
            state.setCellValueFactory(c -> c.getValue().stateProperty());
            state.setCellFactory(c -> Cells.stepState());
            state.setPrefWidth(110);
            TableColumn<StepRow, String> msg = new TableColumn<>("Message");
            msg.setCellValueFactory(c -> c.getValue().messageProperty());
            msg.setPrefWidth(360);
            t.getColumns().setAll(List.of(n, state, type, what, from, to, size, msg));
        } else {
            t.getColumns().setAll(List.of(n, phase, type, what, from, to, size, reason));
        }
        t.setColumnResizePolicy(TableView.CONSTRAINED_RESIZE_POLICY_FLEX_LAST_COLUMN);
        return t;
    }

    // ---- 3. run ---------------------------------------------------------------------------------------

    private Node runPage() {
        ProgressBar overall = new ProgressBar();
        overall.setId("overall-progress");
        overall.progressProperty().bind(model.progressProperty());
        overall.setMaxWidth(Double.MAX_VALUE);
        HBox.setHgrow(overall, Priority.ALWAYS);
        Label text = new Label();
        text.setId("progress-text");
        text.textProperty().bind(model.progressTextProperty());
        Label state = new Label();
        state.setId("run-state");
        state.getStyleClass().add(Styles.SUBTITLE);
        state.textProperty().bind(Bindings.createStringBinding(() -> String.valueOf(model.runStateProperty().get()), model.runStateProperty()));
        Button pause = new Button("Pause");
        pause.setId("pause");
        pause.setOnAction(e -> model.pause());
        pause.disableProperty().bind(model.runStateProperty().isNotEqualTo(RunState.RUNNING));
        Button resume = new Button("Resume");
        resume.setId("resume");
        resume.setOnAction(e -> model.resume());
        resume.disableProperty().bind(model.runStateProperty().isNotEqualTo(RunState.PAUSED));
        Button cancel = new Button("Cancel");
        cancel.setId("cancel");
        cancel.getStyleClass().add(Styles.DANGER);
        cancel.setOnAction(e -> model.cancel());
        cancel.disableProperty().bind(Bindings.createBooleanBinding(() -> {
            RunState s = model.runStateProperty().get();
            return s == null || s.isTerminal() || s == RunState.CANCELLING;
        }, model.runStateProperty()));
        HBox top = new HBox(10, state, overall, pause, resume, cancel);
        top.setAlignment(Pos.CENTER_LEFT);
        Node movesChart = movesChart();

        // Steps that wait for the engine (Kudu replacing a dead tserver's copies), each with its countdown,
        // and the operator's way to have the dead copies replaced now.
        Label waitTitle = new Label("Waiting for the engine");
        waitTitle.getStyleClass().add(Styles.SUBTITLE);
        ListView<String> waiting = new ListView<>(model.waiting());
        waiting.setId("waiting");
        waiting.setPrefHeight(110);
        Button replace = new Button("Replace dead copies now…");
        replace.setId("replace-dead");
        replace.setTooltip(new Tooltip("Drop the dead server's copies from their tablets' configs so that the engine builds new ones now, "
                + "instead of after its own timeout (audited)"));
        replace.visibleProperty().bind(model.replaceOfferedProperty());
        replace.managedProperty().bind(replace.visibleProperty());
        replace.setOnAction(e -> confirmReplace(replace));
        HBox waitHead = new HBox(10, waitTitle, replace);
        waitHead.setAlignment(Pos.CENTER_LEFT);
        VBox waitBox = new VBox(4, waitHead, waiting);
        waitBox.setId("waiting-box");
        waitBox.visibleProperty().bind(Bindings.isNotEmpty(model.waiting()).or(model.replaceOfferedProperty()));
        waitBox.managedProperty().bind(waitBox.visibleProperty());

        // Per node of an engine's own rebalance (Couchbase), as the engine reports it.
        VBox perPart = new VBox(3);
        perPart.setId("per-node-progress");
        Map<String, ProgressBar> bars = new HashMap<>();
        model.parts().addListener((MapChangeListener<String, Double>) c -> {
            if (c.wasRemoved() && !c.wasAdded()) {
                ProgressBar b = bars.remove(c.getKey());
                perPart.getChildren().removeIf(n -> n.getUserData() == b);
            }
            if (c.wasAdded()) {
                ProgressBar b = bars.get(c.getKey());
                if (b == null) {
                    b = new ProgressBar();
                    b.setId("part-" + c.getKey());
                    b.setMaxWidth(Double.MAX_VALUE);
                    Label name = new Label(c.getKey());
                    name.setMinWidth(170);
                    Label pct = new Label();
                    pct.textProperty().bind(b.progressProperty().multiply(100).asString("%.0f%%"));
                    HBox line = new HBox(8, name, b, pct);
                    HBox.setHgrow(b, Priority.ALWAYS);
                    line.setUserData(b);
                    bars.put(c.getKey(), b);
                    line.getProperties().put("part", c.getKey());
                    perPart.getChildren().add(line);
                    FXCollections.sort(perPart.getChildren(), java.util.Comparator.comparing(n -> String.valueOf(n.getProperties().get("part"))));
                }
                b.setProgress(c.getValueAdded());
            }
        });
        TaskProgressView<Task<Void>> tasks = new TaskProgressView<>();
        tasks.setId("tasks");
        // The progress view drops finished tasks from its own list, so only additions are forwarded.
        model.tasks().addListener((ListChangeListener<TaskRunner.StepHandle>) c -> {
            while (c.next()) {
                if (c.wasAdded()) {
                    c.getAddedSubList().stream().filter(h -> h instanceof StepTask).map(h -> (StepTask) h).forEach(tasks.getTasks()::add);
                }
            }
        });
        tasks.setGraphicFactory(t -> Icons.view("step-running"));
        ListView<String> log = new ListView<>(model.log());
        log.setId("log");
        log.getItems().addListener((ListChangeListener<String>) c -> log.scrollTo(log.getItems().size() - 1));
        Label logTitle = new Label("Log");
        logTitle.getStyleClass().add(Styles.SUBTITLE);
        VBox logBox = new VBox(4, logTitle, log);
        VBox.setVgrow(log, Priority.ALWAYS);
        SplitPane split = new SplitPane(tasks, logBox);
        split.setDividerPositions(0.45);
        VBox.setVgrow(split, Priority.ALWAYS);
        VBox box = new VBox(10, top, text, waitBox, perPart, movesChart, split);
        box.setPadding(new Insets(12));
        return box;
    }

    /** One confirmation, stating the risk, before the dead copies are dropped. */
    private void confirmReplace(Node owner) {
        Alert a = new Alert(Alert.AlertType.CONFIRMATION);
        a.initOwner(owner.getScene().getWindow());
        a.setTitle("Replace the dead copies now");
        a.setHeaderText("Drop the copies on " + model.deadServersProperty().get() + " so that they are rebuilt now?");
        a.setContentText("Each tablet with a copy on the dead server loses that copy from its configuration at once, and the engine "
                + "builds a new one on a live server now, instead of after its own timeout (the waiting steps say how long that is)."
                + "\n\nRisk: until the new copies are built, those tablets have one copy fewer. One more failure among their "
                + "servers leaves them without a majority: unavailable until a server comes back. If the dead server comes back, its old "
                + "copies are not used again. Every change is written to the audit log with its command.");
        a.getDialogPane().setId("replace-dead-confirm");
        ButtonType go = new ButtonType("Replace now", ButtonBar.ButtonData.OK_DONE);
        a.getButtonTypes().setAll(go, ButtonType.CANCEL);
        a.showAndWait().filter(go::equals).ifPresent(b -> model.replaceDeadCopies());
    }

    /** The most recent moves the chart keeps: enough to see a trend, few enough to draw at once. */
    private static final int CHART_POINTS = 300;

    /**
     * Time per replica move and the bound on moves per server as the run goes (a live chart), with the bound
     * now in words: in the adaptive mode the operator sees each change and what it did to the moves.
     */
    private Node movesChart() {
        NumberAxis x = new NumberAxis();
        x.setLabel("seconds into the run");
        x.setForceZeroInRange(false);
        NumberAxis y = new NumberAxis();
        y.setForceZeroInRange(true);
        LineChart<Number, Number> chart = new LineChart<>(x, y);
        chart.setId("moves-chart");
        chart.setAnimated(false);
        chart.setCreateSymbols(false);
        chart.setPrefHeight(170);
        chart.setMinHeight(140);
        chart.setLegendVisible(true);
        chart.setLegendSide(javafx.geometry.Side.RIGHT);
        XYChart.Series<Number, Number> took = new XYChart.Series<>();
        took.setName("seconds per move");
        XYChart.Series<Number, Number> level = new XYChart.Series<>();
        level.setName("moves per server");
        chart.getData().setAll(List.of(took, level));
        model.moveSamples().addListener((ListChangeListener<OperationViewModel.MoveSample>) c -> {
            while (c.next()) {
                if (c.wasRemoved() && model.moveSamples().isEmpty()) {
                    took.getData().clear();
                    level.getData().clear();
                }
                for (OperationViewModel.MoveSample m : c.getAddedSubList()) {
                    took.getData().add(new XYChart.Data<>(m.at(), m.seconds()));
                    level.getData().add(new XYChart.Data<>(m.at(), m.concurrency()));
                }
            }
            if (took.getData().size() > CHART_POINTS) {
                took.getData().remove(0, took.getData().size() - CHART_POINTS);
                level.getData().remove(0, level.getData().size() - CHART_POINTS);
            }
        });
        Label now = new Label();
        now.setId("concurrency");
        now.getStyleClass().add(Styles.SUBTITLE);
        now.textProperty().bind(Bindings.createStringBinding(() -> "Moves per server: " + model.concurrencyProperty().get()
                        + (model.adaptiveProperty().get() ? " (adaptive; never above " + model.ceilingProperty().get() + ")" : " (fixed)"),
                model.concurrencyProperty(), model.adaptiveProperty(), model.ceilingProperty()));
        VBox box = new VBox(2, now, chart);
        box.visibleProperty().bind(Bindings.createBooleanBinding(() -> model.planProperty().get() != null
                && model.planProperty().get().steps().stream().anyMatch(st -> st.type() == StepType.MOVE_REPLICA), model.planProperty()));
        box.managedProperty().bind(box.visibleProperty());
        return box;
    }

    // ---- 4. verify -------------------------------------------------------------------------------------

    private Node donePage(Runnable onClose) {
        Label outcome = new Label();
        outcome.setId("outcome");
        outcome.getStyleClass().add(Styles.TITLE);
        outcome.setWrapText(true);
        outcome.textProperty().bind(model.outcomeProperty());
        Label postTitle = new Label("Post-checks");
        postTitle.getStyleClass().add(Styles.SUBTITLE);
        ListView<CheckResult> post = new ListView<>(model.postChecks());
        post.setId("post-checks");
        post.setCellFactory(l -> Cells.check());
        post.setPrefHeight(230);
        TableView<StepRow> steps = stepsTable(true);
        steps.setId("run-steps");
        VBox.setVgrow(steps, Priority.ALWAYS);
        Button done = new Button("Done");
        done.setId("done");
        done.getStyleClass().add(Styles.PRIMARY);
        done.setOnAction(e -> onClose.run());
        Button exit = new Button("Exit maintenance");
        exit.setId("exit-maintenance");
        exit.setTooltip(new Tooltip("The run stopped with " + model.confirmWord() + " in maintenance mode: "
                + "let it take new replicas again. Finished moves stay where they are."));
        exit.visibleProperty().bind(model.maintenanceLeftProperty());
        exit.managedProperty().bind(exit.visibleProperty());
        exit.setOnAction(e -> model.exitMaintenance());
        Button restore = new Button("Preview restore…");
        restore.setId("preview-restore");
        restore.setTooltip(new Tooltip("Plan putting every replica and leader back where it was before this run, "
                + "and preview it like any other plan"));
        restore.visibleProperty().bind(model.restoreOfferedProperty());
        restore.managedProperty().bind(restore.visibleProperty());
        restore.setOnAction(e -> model.previewRestore());
        Label error = new Label();
        error.getStyleClass().add(Styles.ERROR_BANNER);
        error.textProperty().bind(model.errorProperty());
        error.visibleProperty().bind(model.errorProperty().isNotEmpty());
        error.managedProperty().bind(error.visibleProperty());
        Button export = exportButton("export-review-done", OperationViewModel.Stage.DONE, () -> {
            Map<String, byte[]> images = new LinkedHashMap<>(OffscreenReviewImages.renderOnFxThread(model.planProperty().get()));
            images.put("outcome.png", png2x(box()));
            images.put("steps.png", png2x(steps));
            return images;
        });
        HBox buttons = new HBox(8, error, export, grow(), restore, exit, done);
        VBox box = new VBox(10, outcome, postTitle, post, new Label("Steps"), steps, buttons);
        box.setPadding(new Insets(12));
        doneBox = box;
        return box;
    }

    private static Region grow() {
        Region r = new Region();
        HBox.setHgrow(r, Priority.ALWAYS);
        return r;
    }
}
