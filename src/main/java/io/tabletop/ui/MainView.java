package io.tabletop.ui;

import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.LocalClusters;
import io.tabletop.connector.SecretSource;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Verdict;
import io.tabletop.service.OfflineSnapshot;
import io.tabletop.service.Operation;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import javafx.beans.binding.Bindings;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.geometry.Insets;
import javafx.geometry.Orientation;
import javafx.geometry.Pos;
import javafx.scene.chart.BarChart;
import javafx.scene.control.Button;
import javafx.scene.control.ButtonType;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Dialog;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.PasswordField;
import javafx.scene.control.SplitPane;
import javafx.scene.control.Tab;
import javafx.scene.control.TabPane;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableRow;
import javafx.scene.control.TableView;
import javafx.scene.control.TextField;
import javafx.scene.control.ToggleButton;
import javafx.scene.control.ToolBar;
import javafx.scene.control.Tooltip;
import javafx.scene.control.cell.CheckBoxTableCell;
import javafx.scene.input.KeyCode;
import javafx.scene.input.KeyCodeCombination;
import javafx.scene.input.KeyCombination;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.stage.FileChooser;
import org.controlsfx.control.StatusBar;

import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/** The main window: connections, live servers and partitions, the distribution chart, the removal tab. */
public final class MainView extends BorderPane {
    private final MainViewModel model;
    private final RemovalService service;
    private final TaskRunner runner;
    private final TabPane tabs = new TabPane();
    private final TableView<ServerRow> serversTable = new TableView<>();
    private final TableView<PartitionRow> partitionsTable = new TableView<>();
    private final BarChart<String, Number> chart = Charts.loadChart("Replicas and leaders per server");
    private final Button refresh = new Button("Refresh");
    private final TextField search = new TextField();
    private final ToggleButton theme = new ToggleButton();
    private final SplitPane serversSplit = new SplitPane();
    private final Button about = new Button("About");
    private final Button remove = new Button();
    private final Button scaleOut = new Button("Balance onto new servers…");
    private final Button rebalance = new Button("Rebalance…");
    private final Button addServer = new Button("Add a server");
    private final Button openSnapshot = new Button("Open snapshot…");
    private final StatusBar status = new StatusBar();
    private final Label lastRefresh = new Label();
    private final Tab serversTab = new Tab("Servers");
    private final Tab partitionsTab = new Tab("Partitions");
    private final Tab runsTab = new Tab("Runs");
    private final Tab placementTab = new Tab("Placement");
    private final RunsView runsView;
    private Tab removalTab;
    private OperationViewModel removal;

    public MainView(MainViewModel model, RemovalService service, TaskRunner runner) {
        this.model = model;
        this.service = service;
        this.runner = runner;
        getStyleClass().add("main-view");
        setTop(toolbar());
        setLeft(connections());
        setCenter(tabs);
        setBottom(status);
        buildServersTable();
        buildPartitionsTable();
        runsView = new RunsView(service.runs(), runner, this::resumeRun, this::restoreRun);
        runsTab.setContent(runsView);
        runsTab.setId("runs-tab");
        runsTab.setOnSelectionChanged(e -> {
            if (runsTab.isSelected()) {
                runsView.refresh();
            }
        });
        PlacementView placementView = new PlacementView(model);
        placementView.setActive(false);
        placementTab.setContent(placementView);
        placementTab.setOnSelectionChanged(e -> placementView.setActive(placementTab.isSelected()));
        placementTab.setId("placement-tab");
        tabs.getTabs().addAll(serversTab, partitionsTab, placementTab, runsTab);
        tabs.setTabClosingPolicy(TabPane.TabClosingPolicy.UNAVAILABLE);
        bindStatus();
        model.setSecretPrompt(this::askSecret);
        model.placementProperty().addListener((o, a, s) -> {
            if (s != null) {
                Charts.showOutliers(chart, s, Charts.MAX_BARS);
            }
        });
    }

    /** Keyboard shortcuts; call once the view is in a scene. */
    /**
     * What the last session left: the theme, the servers/chart splitter, and the last connection, opened
     * again only when it needs no password (a prompt before the window is up would surprise).
     */
    public void applySettings(io.tabletop.service.UiSettings s) {
        theme.setSelected(s.dark());
        Double d = s.dividers().get(serversSplit.getId());
        if (d != null) {
            serversSplit.setDividerPositions(d);
        }
        if (s.lastConnection() != null) {
            model.connections().stream().filter(c -> c.saved() && c.name().equals(s.lastConnection()) && !model.needsSecret(c))
                    .findFirst().ifPresent(model::select);
        }
    }

    /** This session's theme, splitter and connection, on top of {@code base} (the window's place and size). */
    public io.tabletop.service.UiSettings captureSettings(io.tabletop.service.UiSettings base) {
        MainViewModel.Connection c = model.currentProperty().get();
        java.util.Map<String, Double> dividers = new java.util.LinkedHashMap<>(base.dividers());
        if (serversSplit.getDividerPositions().length > 0) {
            dividers.put(serversSplit.getId(), serversSplit.getDividerPositions()[0]);
        }
        return new io.tabletop.service.UiSettings(base.x(), base.y(), base.width(), base.height(), base.maximized(), theme.isSelected(),
                c != null && c.saved() ? c.name() : null, dividers);
    }

    void openAbout() {
        AboutDialog d = new AboutDialog();
        if (getScene() != null) {
            d.initOwner(getScene().getWindow());
        }
        d.show();
    }

    public void installShortcuts() {
        var acc = getScene().getAccelerators();
        acc.put(new KeyCodeCombination(KeyCode.F5), model::refresh);
        acc.put(new KeyCodeCombination(KeyCode.F1), this::openAbout);
        acc.put(new KeyCodeCombination(KeyCode.R, KeyCombination.SHORTCUT_DOWN), model::refresh);
        acc.put(new KeyCodeCombination(KeyCode.D, KeyCombination.SHORTCUT_DOWN), this::openRemoval);
        acc.put(new KeyCodeCombination(KeyCode.DIGIT1, KeyCombination.SHORTCUT_DOWN), () -> tabs.getSelectionModel().select(0));
        acc.put(new KeyCodeCombination(KeyCode.DIGIT2, KeyCombination.SHORTCUT_DOWN), () -> tabs.getSelectionModel().select(1));
        acc.put(new KeyCodeCombination(KeyCode.DIGIT3, KeyCombination.SHORTCUT_DOWN), () -> tabs.getSelectionModel().select(placementTab));
        acc.put(new KeyCodeCombination(KeyCode.DIGIT4, KeyCombination.SHORTCUT_DOWN), () -> tabs.getSelectionModel().select(runsTab));
        acc.put(new KeyCodeCombination(KeyCode.F, KeyCombination.SHORTCUT_DOWN), search::requestFocus);
        acc.put(new KeyCodeCombination(KeyCode.T, KeyCombination.SHORTCUT_DOWN), () -> theme.setSelected(!theme.isSelected()));
        acc.put(new KeyCodeCombination(KeyCode.B, KeyCombination.SHORTCUT_DOWN), this::openScaleOut);
        acc.put(new KeyCodeCombination(KeyCode.O, KeyCombination.SHORTCUT_DOWN), this::chooseSnapshot);
        acc.put(new KeyCodeCombination(KeyCode.N, KeyCombination.SHORTCUT_DOWN), this::addConnection);
        // The operation's flow: the view model's commands, which do nothing where the page does not offer them.
        acc.put(new KeyCodeCombination(KeyCode.P, KeyCombination.SHORTCUT_DOWN), () -> withOperation(OperationViewModel::preview));
        acc.put(new KeyCodeCombination(KeyCode.ENTER, KeyCombination.SHORTCUT_DOWN), () -> withOperation(OperationViewModel::run));
        acc.put(new KeyCodeCombination(KeyCode.SPACE, KeyCombination.SHORTCUT_DOWN), () -> withOperation(OperationViewModel::togglePause));
        acc.put(new KeyCodeCombination(KeyCode.E, KeyCombination.SHORTCUT_DOWN), () -> {
            if (removalTab != null && removalTab.getContent() instanceof OperationView v) {
                v.exportReview();
            }
        });
        acc.put(new KeyCodeCombination(KeyCode.C, KeyCombination.SHORTCUT_DOWN, KeyCombination.SHIFT_DOWN), this::copySelectedTabAsImage);
    }

    private void withOperation(Consumer<OperationViewModel> command) {
        if (removal != null) {
            command.accept(removal);
        }
    }

    /** Finds a server (by id or address) or a partition (by id), shows it, and selects it. */
    void find(String text) {
        String q = text == null ? "" : text.strip();
        if (q.isEmpty()) {
            return;
        }
        for (ServerRow r : model.servers()) {
            if (r.id().value().equalsIgnoreCase(q) || r.addressProperty().get().equalsIgnoreCase(q)
                    || r.id().value().toLowerCase(Locale.ROOT).startsWith(q.toLowerCase(Locale.ROOT))) {
                tabs.getSelectionModel().select(serversTab);
                serversTable.getSelectionModel().select(r);
                serversTable.scrollTo(r);
                return;
            }
        }
        model.tableFilterProperty().set(MainViewModel.ALL_TABLES);
        model.serverFilterProperty().set(MainViewModel.ALL_SERVERS);
        for (PartitionRow r : model.partitions()) {
            if (r.id().equalsIgnoreCase(q) || r.id().toLowerCase(Locale.ROOT).startsWith(q.toLowerCase(Locale.ROOT))) {
                tabs.getSelectionModel().select(partitionsTab);
                partitionsTable.getSelectionModel().select(r);
                partitionsTable.scrollTo(r);
                return;
            }
        }
        model.errorProperty().set("Nothing called '" + q + "': no server id or address, no partition id");
    }

    /** Ctrl+Shift+C: the selected tab's content as a PNG on the clipboard, at 2x. */
    private void copySelectedTabAsImage() {
        Tab t = tabs.getSelectionModel().getSelectedItem();
        if (t != null && t.getContent() != null) {
            CopyAsImage.copy(t.getContent());
        }
    }

    private ToolBar toolbar() {
        refresh.setId("refresh");
        refresh.setTooltip(new Tooltip("Read the cluster now (F5). It also refreshes by itself every 2 s."));
        remove.setId("remove-selected");
        remove.getStyleClass().add(Styles.DANGER);
        remove.textProperty().bind(Bindings.format("Remove selected (%d)…", model.selectedCountProperty()));
        remove.disableProperty().bind(model.selectedCountProperty().isEqualTo(0));
        remove.setTooltip(new Tooltip("Pre-check, preview and run the removal of the ticked servers (Ctrl+D)"));
        Label title = new Label("Tabletop");
        title.getStyleClass().add(Styles.TITLE);
        Label subtitle = new Label("take tablet servers out without losing a byte");
        subtitle.getStyleClass().add(Styles.MUTED);
        Region grow = new Region();
        HBox.setHgrow(grow, Priority.ALWAYS);
        refresh.setOnAction(e -> model.refresh());
        remove.setOnAction(e -> openRemoval());
        search.setId("search");
        search.setPromptText("Find a server or partition (Ctrl+F)");
        search.setPrefColumnCount(22);
        search.setOnAction(e -> find(search.getText()));
        theme.setId("theme");
        theme.setTooltip(new Tooltip("Light or dark theme (Ctrl+T)"));
        theme.textProperty().bind(Bindings.when(theme.selectedProperty()).then("Light").otherwise("Dark"));
        theme.selectedProperty().addListener((o, a, dark) -> {
            getStyleClass().remove("dark");
            if (getScene() != null) {
                getScene().getRoot().getStyleClass().remove("dark");
                if (dark) {
                    getScene().getRoot().getStyleClass().add("dark");
                }
            }
        });
        scaleOut.setId("scale-out");
        scaleOut.setTooltip(new Tooltip("Move replicas and leaders onto the new servers until the cluster is even: the ticked servers, "
                + "or else every live server that holds nothing (Ctrl+B)"));
        scaleOut.setOnAction(e -> openScaleOut());
        rebalance.setId("rebalance");
        rebalance.setTooltip(new Tooltip("Even out replicas per table, then in total, then leaders; optionally bounded in moves"));
        rebalance.setOnAction(e -> openRebalance());
        addServer.setId("add-server");
        addServer.setTooltip(new Tooltip("Start one more empty server that joins the cluster, as a freshly started tablet server would"));
        addServer.visibleProperty().bind(Bindings.createBooleanBinding(() -> model.connectorProperty().get() != null
                && model.connectorProperty().get().canAddServer(), model.connectorProperty()));
        addServer.managedProperty().bind(addServer.visibleProperty());
        addServer.setOnAction(e -> addServer());
        openSnapshot.setId("open-snapshot");
        openSnapshot.setTooltip(new Tooltip("Show a saved snapshot read-only: plan, preview and export a review before the change window (Ctrl+O)"));
        openSnapshot.setOnAction(e -> chooseSnapshot());
        scaleOut.disableProperty().bind(model.connectorProperty().isNull());
        rebalance.disableProperty().bind(model.connectorProperty().isNull());
        about.setId("about");
        about.setTooltip(new Tooltip("Version, log file and licenses (F1)"));
        about.setOnAction(e -> openAbout());
        return new ToolBar(title, subtitle, grow, search, theme, refresh, openSnapshot, about);
    }

    private VBox connections() {
        Label head = new Label("Connections");
        head.getStyleClass().add(Styles.SUBTITLE);
        ListView<MainViewModel.Connection> list = new ListView<>(model.connections());
        list.setId("connections");
        list.getSelectionModel().select(model.currentProperty().get());
        list.setPrefWidth(200);
        VBox.setVgrow(list, Priority.ALWAYS);
        VBox locals = new VBox(6);
        for (EngineProvider p : model.engines().registry().providers()) {
            p.localClusters().ifPresent(lc -> {
                Button local = new Button("Start local " + p.displayName() + " cluster");
                local.setId("start-local-" + p.schemes().get(0));
                local.setMaxWidth(Double.MAX_VALUE);
                local.setTooltip(new Tooltip("Starts a real " + p.displayName() + " cluster on this machine (" + lc.describeDefault()
                        + "). It stops when the console closes." + lc.unsupported().map(w -> " Not here: " + w + ".").orElse("")));
                local.disableProperty().bind(model.busyProperty().isNotEmpty().or(Bindings.createBooleanBinding(() -> lc.unsupported().isPresent())));
                local.setOnAction(e -> startLocal(p, lc));
                locals.getChildren().add(local);
            });
        }
        Button add = new Button("Add connection…");
        add.setId("add-connection");
        add.setMaxWidth(Double.MAX_VALUE);
        add.setTooltip(new Tooltip("A cluster of any engine: " + model.engines().registry().examples() + " (Ctrl+N)"));
        Label busy = new Label();
        busy.setWrapText(true);
        busy.getStyleClass().add(Styles.MUTED);
        busy.textProperty().bind(model.busyProperty());
        busy.visibleProperty().bind(model.busyProperty().isNotEmpty());
        busy.managedProperty().bind(busy.visibleProperty());
        VBox box = new VBox(6, head, list, busy, locals, add);
        box.setPadding(new Insets(8));
        box.getStyleClass().add("sidebar");

        list.getSelectionModel().selectedItemProperty().addListener((o, a, c) -> {
            if (c != null && !c.equals(model.currentProperty().get())) {
                if (removal != null && removal.stageProperty().get() == OperationViewModel.Stage.RUNNING) {
                    model.errorProperty().set("A removal is running on " + model.currentProperty().get().name()
                            + "; switch clusters when it has finished.");
                    list.getSelectionModel().select(model.currentProperty().get());
                    return;
                }
                closeRemoval();
                model.select(c);
            }
        });
        model.currentProperty().addListener((o, a, c) -> list.getSelectionModel().select(c));
        add.setOnAction(e -> addConnection());
        return box;
    }

    private void startLocal(EngineProvider provider, LocalClusters local) {
        model.busyProperty().set("Starting a local " + provider.displayName() + " cluster (about 15 s)…");
        runner.background("start local " + provider.displayName(), () -> local.startOwned(local.defaultShape()), owned -> {
            model.busyProperty().set("");
            model.own(owned);
            MainViewModel.Connection c = model.addConnection(owned.label(), owned::connector);
            model.select(c);
        }, t -> {
            model.busyProperty().set("");
            model.errorProperty().set("Cannot start a local " + provider.displayName() + " cluster: " + Errors.oneLine(t));
        });
    }

    /** A password dialog for a connection whose engine asks for one and whose variable is not set. */
    private Optional<char[]> askSecret(String connection, SecretSource.Request request) {
        Dialog<char[]> d = new Dialog<>();
        d.setTitle("Password for " + connection);
        d.setHeaderText(request.prompt() + "\nIt stays in memory only; to skip this, set " + request.environmentVariable() + ".");
        PasswordField field = new PasswordField();
        field.setId("secret-field");
        d.getDialogPane().setContent(field);
        d.getDialogPane().getButtonTypes().setAll(ButtonType.OK, ButtonType.CANCEL);
        d.initOwner(getScene() == null ? null : getScene().getWindow());
        d.setResultConverter(b -> b == ButtonType.OK && !field.getText().isEmpty() ? field.getText().toCharArray() : null);
        return d.showAndWait();
    }

    /** "Add connection…": the dialog built from the chosen engine's form; the connection opens at once. */
    public void addConnection() {
        new ConnectionDialog(model.engines().registry().providers(), getScene() == null ? null : getScene().getWindow()).ask().ifPresent(r -> {
            try {
                MainViewModel.Connection c = model.addSpec(r.spec(), r.spec(), r.save(), r.secret());
                Arrays.fill(r.secret(), '\0');
                if (r.save()) {
                    model.saveConnections();
                }
                model.select(c);
            } catch (IllegalArgumentException ex) {
                model.errorProperty().set(ex.getMessage());
            }
        });
    }

    private void buildServersTable() {
        serversTable.setId("servers");
        serversTable.setEditable(true);
        serversTable.setItems(model.servers());
        TableColumn<ServerRow, Boolean> pick = new TableColumn<>("Select");
        pick.setCellValueFactory(c -> c.getValue().selectedProperty());
        pick.setCellFactory(CheckBoxTableCell.forTableColumn(pick));
        pick.setEditable(true);
        pick.setPrefWidth(70);
        TableColumn<ServerRow, String> id = new TableColumn<>("Server");
        // The mark goes first: a long id (Kudu's UUIDs) is cut at the column's edge.
        id.setCellValueFactory(c -> Bindings.createStringBinding(() -> (c.getValue().isNewAndEmpty() ? "✚ new · " : "")
                + c.getValue().id().value(), c.getValue().replicasProperty(), c.getValue().stateProperty()));
        TableColumn<ServerRow, String> addr = new TableColumn<>("Address");
        addr.setCellValueFactory(c -> c.getValue().addressProperty());
        addr.setPrefWidth(190);
        TableColumn<ServerRow, String> loc = new TableColumn<>("Location");
        loc.setCellValueFactory(c -> c.getValue().locationProperty());
        TableColumn<ServerRow, ServerState> state = new TableColumn<>("State");
        state.setCellValueFactory(c -> c.getValue().stateProperty());
        state.setCellFactory(c -> Cells.stateBadge());
        state.setPrefWidth(140);
        TableColumn<ServerRow, Number> replicas = new TableColumn<>("Replicas");
        replicas.setCellValueFactory(c -> c.getValue().replicasProperty());
        TableColumn<ServerRow, Number> leaders = new TableColumn<>("Leaders");
        leaders.setCellValueFactory(c -> c.getValue().leadersProperty());
        TableColumn<ServerRow, Number> data = new TableColumn<>("Data");
        data.setCellValueFactory(c -> c.getValue().bytesProperty());
        data.setCellFactory(c -> Cells.bytes());
        TableColumn<ServerRow, Long> hb = new TableColumn<>("Heartbeat");
        hb.setCellValueFactory(c -> c.getValue().heartbeatProperty());
        hb.setCellFactory(c -> Cells.heartbeat());
        serversTable.getColumns().setAll(List.of(pick, id, addr, loc, state, replicas, leaders, data, hb));
        serversTable.setColumnResizePolicy(TableView.CONSTRAINED_RESIZE_POLICY_FLEX_LAST_COLUMN);
        CopyAsImage.install(serversTable);
        CopyAsImage.install(chart);
        serversTable.setPlaceholder(new Label("Reading the cluster…"));
        serversTable.setRowFactory(t -> {
            TableRow<ServerRow> row = new TableRow<>();
            row.setOnMouseClicked(e -> {
                if (e.getClickCount() == 2 && !row.isEmpty()) {
                    model.showPartitionsOf(row.getItem().id());
                    tabs.getSelectionModel().select(partitionsTab);
                }
            });
            return row;
        });
        Label hint = new Label("Tick servers to take out, then \"Remove selected\"; or \"Balance onto new servers…\" to fill new ones. "
                + "Double-click a server to see its partitions.");
        hint.getStyleClass().add(Styles.MUTED);
        Label error = new Label();
        error.getStyleClass().add(Styles.ERROR_BANNER);
        error.textProperty().bind(model.errorProperty());
        error.visibleProperty().bind(model.errorProperty().isNotEmpty());
        error.managedProperty().bind(error.visibleProperty());
        Label notice = new Label();
        notice.setId("notice");
        notice.getStyleClass().add(Styles.MUTED);
        notice.textProperty().bind(model.noticeProperty());
        notice.visibleProperty().bind(model.noticeProperty().isNotEmpty());
        notice.managedProperty().bind(notice.visibleProperty());
        HBox actions = new HBox(8, remove, scaleOut, rebalance, addServer);
        for (Button b : List.of(remove, scaleOut, rebalance, addServer)) {
            b.setMinWidth(Region.USE_PREF_SIZE); // the buttons keep their words; the hint below may shorten
        }
        actions.setAlignment(Pos.CENTER_LEFT);
        actions.setId("server-actions");
        hint.setMinWidth(0);
        VBox box = new VBox(8, error, notice, actions, hint, serversTable);
        VBox.setVgrow(serversTable, Priority.ALWAYS);
        chart.setId("distribution-chart");
        serversSplit.getItems().setAll(box, chart);
        serversSplit.setId("servers-split");
        serversSplit.setOrientation(Orientation.VERTICAL);
        serversSplit.setDividerPositions(0.5);
        serversSplit.setPadding(new Insets(10));
        serversTab.setContent(serversSplit);
    }

    private void buildPartitionsTable() {
        partitionsTable.setId("partitions");
        partitionsTable.setItems(model.partitions());
        TableColumn<PartitionRow, String> table = new TableColumn<>("Table");
        table.setCellValueFactory(c -> c.getValue().tableProperty());
        TableColumn<PartitionRow, String> id = new TableColumn<>("Partition");
        id.setCellValueFactory(c -> new ReadOnlyStringWrapper(c.getValue().id()));
        TableColumn<PartitionRow, String> leader = new TableColumn<>("Leader");
        leader.setCellValueFactory(c -> c.getValue().leaderProperty());
        leader.setCellFactory(c -> Cells.leader());
        TableColumn<PartitionRow, String> followers = new TableColumn<>("Followers");
        followers.setCellValueFactory(c -> c.getValue().followersProperty());
        followers.setPrefWidth(160);
        TableColumn<PartitionRow, String> learners = new TableColumn<>("Not serving");
        learners.setCellValueFactory(c -> c.getValue().learnersProperty());
        TableColumn<PartitionRow, Long> size = new TableColumn<>("Size");
        size.setCellValueFactory(c -> c.getValue().sizeProperty());
        size.setCellFactory(c -> Cells.bytesOrUnknown());
        partitionsTable.getColumns().setAll(List.of(table, id, leader, followers, learners, size));
        partitionsTable.setColumnResizePolicy(TableView.CONSTRAINED_RESIZE_POLICY_FLEX_LAST_COLUMN);
        CopyAsImage.install(partitionsTable);

        ComboBox<String> tableFilter = new ComboBox<>(model.tableChoices());
        tableFilter.setId("table-filter");
        tableFilter.valueProperty().bindBidirectional(model.tableFilterProperty());
        ComboBox<String> serverFilter = new ComboBox<>(model.serverChoices());
        serverFilter.setId("server-filter");
        serverFilter.setPrefWidth(170); // a thousand servers are not measured to size the box
        tableFilter.setPrefWidth(150);
        serverFilter.valueProperty().bindBidirectional(model.serverFilterProperty());
        Label count = new Label();
        count.getStyleClass().add(Styles.MUTED);
        count.textProperty().bind(Bindings.createStringBinding(() -> model.partitions().size() + " of "
                + model.partitionCount() + " partitions · ♛ marks the leader", model.partitions()));
        HBox filters = new HBox(8, new Label("Table"), tableFilter, new Label("Server"), serverFilter, count);
        filters.setAlignment(Pos.CENTER_LEFT);
        VBox box = new VBox(8, filters, partitionsTable);
        VBox.setVgrow(partitionsTable, Priority.ALWAYS);
        box.setPadding(new Insets(10));
        partitionsTab.setContent(box);
    }

    private void bindStatus() {
        status.setId("status");
        status.textProperty().bind(Bindings.createStringBinding(() -> {
            ClusterSnapshot s = model.snapshotProperty().get();
            return (s == null ? "" : "Cluster " + s.cluster() + " · ") + model.healthTextProperty().get();
        }, model.snapshotProperty(), model.healthTextProperty()));
        status.graphicProperty().bind(Bindings.createObjectBinding(() -> {
            Verdict v = model.healthProperty().get();
            return v == null ? null : Icons.view(switch (v) {
                case PASS -> "check-pass";
                case WARN -> "check-warn";
                case BLOCK -> "check-block";
            });
        }, model.healthProperty()));
        lastRefresh.textProperty().bind(Bindings.concat("Last refresh ", model.lastRefreshProperty()));
        lastRefresh.setId("last-refresh");
        status.getRightItems().add(lastRefresh);
    }

    /** Starts a new empty server (the sandbox; a local cluster this console started) and shows it when it has joined. */
    void addServer() {
        var k = model.connectorProperty().get();
        if (k == null || !k.canAddServer()) {
            return;
        }
        model.busyProperty().set("Adding a server…");
        runner.background("add a server", k::addServer, id -> {
            model.busyProperty().set("");
            model.errorProperty().set("");
            model.noticeProperty().set(id + " joined the cluster and holds nothing yet: \"Balance onto new servers…\" fills it");
            model.refresh();
        }, t -> {
            model.busyProperty().set("");
            model.errorProperty().set("Cannot add a server: " + Errors.oneLine(t));
        });
    }

    /** "Open snapshot…": a file chooser, then the snapshot as a read-only connection. */
    void chooseSnapshot() {
        FileChooser chooser = new FileChooser();
        chooser.setTitle("Open a saved snapshot");
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Snapshot JSON", "*.json"));
        File f = chooser.showOpenDialog(getScene() == null ? null : getScene().getWindow());
        if (f != null) {
            openSnapshot(f.toPath());
        }
    }

    /** Opens a snapshot file read-only; a file that is not a snapshot is one line, and nothing changes. */
    public void openSnapshot(Path file) {
        runner.background("open " + file, () -> OfflineSnapshot.open(file, model.engines()), offline -> {
            MainViewModel.Connection c = model.addConnection(offline.name(), () -> offline);
            model.select(c);
        }, t -> model.errorProperty().set("Cannot open " + file.getFileName() + ": " + Errors.oneLine(t)));
    }

    /** Opens (or re-opens) the removal tab for the ticked servers and starts the pre-checks. */
    public void openRemoval() {
        var targets = model.selectedServers();
        if (targets.isEmpty()) {
            return;
        }
        openOperation(Operation.remove(targets, names(targets)));
    }

    /**
     * "Balance onto new servers…": the ticked servers, or else every live server that holds nothing (one
     * that just joined), become the scale-out's destinations.
     */
    public void openScaleOut() {
        List<ServerId> targets = scaleOutTargets();
        if (targets.isEmpty()) {
            model.errorProperty().set("No new server: tick the servers to balance onto, or add one (a server that holds nothing counts as new)");
            return;
        }
        openOperation(Operation.scaleOut(targets, names(targets)));
    }

    /** The servers a scale-out would fill: the ticked ones, else the live ones that hold nothing. */
    List<ServerId> scaleOutTargets() {
        List<ServerId> ticked = model.selectedServers();
        return !ticked.isEmpty() ? ticked : model.servers().stream().filter(ServerRow::isNewAndEmpty).map(ServerRow::id).toList();
    }

    public void openRebalance() {
        openOperation(Operation.rebalance());
    }

    /** Continues a recorded run on the cluster it ran on, which must be the one shown now. */
    public void resumeRun(Runs.RunInfo run) {
        if (!matchesCurrent(run)) {
            return;
        }
        openOperation(Operation.resume(run));
    }

    /** Plans putting back the placement a recorded run started from. */
    public void restoreRun(Runs.RunInfo run) {
        if (!matchesCurrent(run)) {
            return;
        }
        runner.background("read the run's starting snapshot", () -> service.runs().snapshotBefore(run), before ->
                openOperation(Operation.restore(before, "the placement before run " + run.record().runId())),
                t -> model.errorProperty().set("Cannot restore run " + run.record().runId() + ": " + Errors.oneLine(t)));
    }

    private boolean matchesCurrent(Runs.RunInfo run) {
        MainViewModel.Connection c = model.currentProperty().get();
        String connect = run.record().connect();
        var k = model.connectorProperty().get();
        boolean same = c != null && k != null && (connect.equals(c.spec()) || connect.equals(k.name()) || connect.equals(c.name()));
        if (!same) {
            model.errorProperty().set("Run " + run.record().runId() + " ran on " + connect + ": select that connection first"
                    + (Runs.outlivesProcess(run.record()) ? " (or add it with Add connection…)" : " (a sandbox run lives only as long as its console)"));
        }
        return same;
    }

    private List<String> names(List<ServerId> targets) {
        return targets.stream().map(id -> model.servers().stream().filter(r -> r.id().equals(id)).findFirst()
                .filter(r -> id.value().length() > 16).map(r -> r.addressProperty().get()).orElse(id.value())).toList();
    }

    /** Opens the flow for {@code op} in its own tab (one at a time) and starts the pre-checks. */
    void openOperation(Operation op) {
        if (model.connectorProperty().get() == null) {
            return;
        }
        if (removalTab != null && removal != null
                && removal.stageProperty().get() == OperationViewModel.Stage.RUNNING) {
            tabs.getSelectionModel().select(removalTab);
            model.errorProperty().set("A run is in progress in the tab '" + removalTab.getText() + "'; one operation at a time");
            return;
        }
        closeRemoval();
        MainViewModel.Connection c = model.currentProperty().get();
        removal = new OperationViewModel(model.connectorProperty().get(), c == null ? null : c.spec(), service, runner, op);
        removal.setOnFinished(() -> {
            model.refresh();
            runsView.refresh();
        });
        OperationView view = new OperationView(removal, this::closeRemoval);
        removalTab = new Tab(op.title(), view);
        removalTab.setId("removal-tab");
        tabs.getTabs().add(removalTab);
        tabs.getSelectionModel().select(removalTab);
        removal.check();
    }

    /** The operation tab's model, if one is open (shortcuts act on it). */
    OperationViewModel operation() {
        return removal;
    }

    void closeRemoval() {
        if (removalTab != null) {
            if (removal != null && removal.stageProperty().get() == OperationViewModel.Stage.RUNNING) {
                return; // a run in progress keeps its tab
            }
            tabs.getTabs().remove(removalTab);
            removalTab = null;
            if (removal != null) {
                removal.discard();
            }
            if (removal != null && removal.stageProperty().get() == OperationViewModel.Stage.DONE) {
                model.clearSelection();
            }
            removal = null;
            tabs.getSelectionModel().select(serversTab);
            model.refresh();
        }
    }

    public TabPane tabs() {
        return tabs;
    }
}
