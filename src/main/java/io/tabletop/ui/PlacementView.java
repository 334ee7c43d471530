package io.tabletop.ui;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.SplitPane;
import javafx.scene.control.TableCell;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.control.Tooltip;
import javafx.scene.layout.Background;
import javafx.scene.layout.BackgroundFill;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;
import javafx.scene.paint.Color;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The placement grid: partitions as rows (grouped by table), servers as columns, each cell the role that
 * server plays for that partition: ♛ leader, F follower, l learner, told apart by letter and shape as well
 * as colour (blue and orange, which colour-blind readers tell apart). Rows are virtualised and cells have
 * a fixed size, so 100,000 partitions scroll as smoothly as 100. Beside it, a heatmap of replicas and
 * leaders per server and table. The filters are the partitions view's own; the column of the server
 * filtered on is highlighted.
 */
final class PlacementView extends VBox {
    static final String LEADER = "placement-leader";
    static final String FOLLOWER = "placement-follower";
    static final String LEARNER = "placement-learner";
    static final String STALE = "placement-stale";
    static final String SELECTED = "placement-selected";

    private final MainViewModel model;
    private final TableView<PartitionRow> grid = new TableView<>();
    private final GridPane heat = new GridPane();
    private final Label pageLabel = new Label();
    /** Server columns and heatmap rows shown at once: a table virtualises its rows, not its columns. */
    static final int PAGE = 40;
    private int page;
    /** Drawn only while its tab shows; a change meanwhile is drawn when it shows again. */
    private boolean active = true;
    private boolean dirty;
    private List<ServerId> columns = List.of();

    PlacementView(MainViewModel model) {
        this.model = model;
        setId("placement-view");
        setSpacing(8);
        setPadding(new Insets(10));
        grid.setId("placement-grid");
        grid.setItems(model.partitions());
        grid.setFixedCellSize(22);
        grid.setPlaceholder(new Label("No partitions match the filters."));
        ComboBox<String> tableFilter = new ComboBox<>(model.tableChoices());
        tableFilter.valueProperty().bindBidirectional(model.tableFilterProperty());
        ComboBox<String> serverFilter = new ComboBox<>(model.serverChoices());
        serverFilter.valueProperty().bindBidirectional(model.serverFilterProperty());
        Label legend = new Label("♛ leader · F follower · l learner (being built) · the filtered server's column is outlined");
        legend.getStyleClass().add(Styles.MUTED);
        Button prev = new Button("‹");
        prev.setId("placement-prev");
        prev.setOnAction(e -> turn(-1));
        Button next = new Button("›");
        next.setId("placement-next");
        next.setOnAction(e -> turn(1));
        pageLabel.setId("placement-page");
        HBox filters = new HBox(8, new Label("Table"), tableFilter, new Label("Server"), serverFilter, prev, pageLabel, next, legend);
        filters.setAlignment(Pos.CENTER_LEFT);
        heat.setId("placement-heatmap");
        heat.setHgap(2);
        heat.setVgap(2);
        heat.setPadding(new Insets(4));
        ScrollPane heatScroll = new ScrollPane(heat);
        heatScroll.setFitToWidth(false);
        VBox heatBox = new VBox(6, titled("Replicas / leaders per server and table"), heatScroll);
        VBox.setVgrow(heatScroll, Priority.ALWAYS);
        SplitPane split = new SplitPane(grid, heatBox);
        split.setDividerPositions(0.62);
        VBox.setVgrow(split, Priority.ALWAYS);
        getChildren().addAll(filters, split);
        CopyAsImage.install(grid);
        CopyAsImage.install(heat);
        model.placementProperty().addListener((o, a, s) -> show(s));
        serverFilter.setPrefWidth(170);
        tableFilter.setPrefWidth(150);
        model.serverFilterProperty().addListener((o, a, b) -> {
            int i = serverIndex(b);
            if (i >= 0 && i / PAGE != page) {
                page = i / PAGE; // the filtered server's column is shown
                show(model.placementProperty().get());
            } else {
                highlight();
            }
        });
        show(model.placementProperty().get());
    }

    private static Label titled(String text) {
        Label l = new Label(text);
        l.getStyleClass().add(Styles.SUBTITLE);
        return l;
    }

    private int serverIndex(String id) {
        ClusterSnapshot s = model.placementProperty().get();
        if (s == null || id == null) {
            return -1;
        }
        for (int i = 0; i < s.servers().size(); i++) {
            if (s.servers().get(i).id().value().equals(id)) {
                return i;
            }
        }
        return -1;
    }

    private void turn(int by) {
        ClusterSnapshot s = model.placementProperty().get();
        if (s == null) {
            return;
        }
        int pages = Math.max(1, (s.servers().size() + PAGE - 1) / PAGE);
        page = Math.floorMod(page + by, pages);
        show(s);
    }

    /** Whether the view's tab shows; drawing waits until it does. */
    void setActive(boolean showing) {
        active = showing;
        if (showing && dirty) {
            show(model.placementProperty().get());
        }
    }

    private void show(ClusterSnapshot s) {
        if (s == null) {
            return;
        }
        if (!active) {
            dirty = true;
            return;
        }
        dirty = false;
        List<ServerId> all = s.servers().stream().map(Server::id).toList();
        int pages = Math.max(1, (all.size() + PAGE - 1) / PAGE);
        page = Math.min(page, pages - 1);
        List<ServerId> ids = all.subList(page * PAGE, Math.min(all.size(), (page + 1) * PAGE));
        pageLabel.setText(String.format(Locale.ROOT, "servers %,d–%,d of %,d", page * PAGE + 1, page * PAGE + ids.size(), all.size()));
        if (!ids.equals(columns)) {
            columns = ids;
            List<TableColumn<PartitionRow, ?>> cols = new ArrayList<>();
            TableColumn<PartitionRow, String> table = new TableColumn<>("Table");
            table.setCellValueFactory(c -> c.getValue().tableProperty());
            table.setPrefWidth(110);
            TableColumn<PartitionRow, String> id = new TableColumn<>("Partition");
            id.setCellValueFactory(c -> new ReadOnlyStringWrapper(shortId(c.getValue().id())));
            id.setPrefWidth(110);
            cols.add(table);
            cols.add(id);
            for (ServerId server : ids) {
                TableColumn<PartitionRow, String> col = new TableColumn<>(shortId(server.value()));
                col.setUserData(server);
                col.setPrefWidth(54);
                col.setSortable(false);
                col.setCellValueFactory(c -> new ReadOnlyStringWrapper(role(c.getValue().partition(), server)));
                col.setCellFactory(c -> new RoleCell());
                Label head = new Label(shortId(server.value()));
                head.setTooltip(new Tooltip(server.value() + " · " + s.server(server).map(Server::address).orElse("")));
                col.setGraphic(head);
                col.setText("");
                cols.add(col);
            }
            grid.getColumns().setAll(cols);
        }
        highlight();
        heatmap(heat, s, null, ids);
    }

    /** "L", "F", "l" or "" for that server's replica of {@code p}. */
    static String role(Partition p, ServerId server) {
        if (p == null) {
            return "";
        }
        for (Replica r : p.replicas()) {
            if (r.server().equals(server)) {
                return switch (r.role()) {
                    case LEADER -> "L";
                    case FOLLOWER -> "F";
                    case LEARNER -> "l";
                    case STALE -> "s";
                };
            }
        }
        return "";
    }

    private static String shortId(String id) {
        return id.length() > 16 ? id.substring(0, 8) : id;
    }

    private void highlight() {
        String filter = model.serverFilterProperty().get();
        for (TableColumn<PartitionRow, ?> c : grid.getColumns()) {
            c.getStyleClass().remove(SELECTED);
            if (c.getUserData() instanceof ServerId id && id.value().equals(filter)) {
                c.getStyleClass().add(SELECTED);
            }
        }
        grid.refresh();
    }


    /**
     * Fills {@code heat} with replicas / leaders per server and table of {@code s}; with {@code before},
     * each cell also shows the change from it ("45 (+9) / 15 (+1)"), for the preview's before → after.
     */
    static void heatmap(GridPane heat, ClusterSnapshot s, ClusterSnapshot before) {
        heatmap(heat, s, before, s.servers().stream().map(Server::id).toList());
    }

    /** As above, for the rows of {@code shown} only (a page of a large cluster). */
    static void heatmap(GridPane heat, ClusterSnapshot s, ClusterSnapshot before, List<ServerId> shown) {
        heat.getChildren().clear();
        List<Table> tables = s.tables();
        Map<TableId, Integer> col = new HashMap<>();
        for (int t = 0; t < tables.size(); t++) {
            col.put(tables.get(t).id(), t);
            Label h = new Label(tables.get(t).name());
            h.getStyleClass().add("heat-header");
            heat.add(h, t + 1, 0);
        }
        Map<ServerId, Integer> row = new HashMap<>();
        for (int i = 0; i < shown.size(); i++) {
            ServerId id = shown.get(i);
            row.put(id, i);
            Label h = new Label(shortId(id.value()));
            h.getStyleClass().add("heat-header");
            heat.add(h, 0, i + 1);
        }
        int[][] replicas = new int[shown.size()][tables.size()];
        int[][] leaders = new int[shown.size()][tables.size()];
        int max = Math.max(1, count(s, col, row, replicas, leaders));
        int[][] replicasBefore = new int[shown.size()][tables.size()];
        int[][] leadersBefore = new int[shown.size()][tables.size()];
        if (before != null) {
            count(before, col, row, replicasBefore, leadersBefore);
        }
        for (int i = 0; i < replicas.length; i++) {
            for (int t = 0; t < tables.size(); t++) {
                Label cell = new Label(before == null ? replicas[i][t] + " / " + leaders[i][t]
                        : replicas[i][t] + delta(replicas[i][t] - replicasBefore[i][t]) + " / " + leaders[i][t]
                        + delta(leaders[i][t] - leadersBefore[i][t]));
                cell.setId("heat-" + shown.get(i).value() + "-" + tables.get(t).id().value());
                cell.getStyleClass().add("heat-cell");
                double shade = (double) replicas[i][t] / max;
                // Lightness carries the count, so it reads in grey as well as in colour.
                // A fill, not an inline style: a style string is parsed for every cell on every redraw.
                cell.setBackground(new Background(new BackgroundFill(
                        Color.hsb(210, (15 + 70 * shade) / 100, (98 - 40 * shade) / 100), null, null)));
                if (shade > 0.6) {
                    cell.setTextFill(Color.WHITE);
                }
                cell.setTooltip(new Tooltip(shown.get(i) + " holds " + replicas[i][t] + " replicas of "
                        + tables.get(t).name() + " and leads " + leaders[i][t]));
                heat.add(cell, t + 1, i + 1);
            }
        }
    }

    private static int count(ClusterSnapshot s, Map<TableId, Integer> col, Map<ServerId, Integer> row, int[][] replicas, int[][] leaders) {
        int max = 0;
        for (Partition p : s.partitions()) {
            Integer t = col.get(p.table());
            if (t == null) {
                continue;
            }
            for (Replica r : p.replicas()) {
                Integer i = row.get(r.server());
                if (i != null) {
                    max = Math.max(max, ++replicas[i][t]);
                    if (r.role() == ReplicaRole.LEADER) {
                        leaders[i][t]++;
                    }
                }
            }
        }
        return max;
    }

    private static String delta(int d) {
        return d == 0 ? "" : d > 0 ? " (+" + d + ")" : " (" + d + ")";
    }

    /** A grid cell: the role's mark and its colour class. */
    private static final class RoleCell extends TableCell<PartitionRow, String> {
        RoleCell() {
            getStyleClass().add("placement-cell");
        }

        @Override
        protected void updateItem(String role, boolean empty) {
            super.updateItem(role, empty);
            getStyleClass().removeAll(LEADER, FOLLOWER, LEARNER, STALE, SELECTED);
            if (getTableColumn() != null && getTableColumn().getStyleClass().contains(SELECTED)) {
                getStyleClass().add(SELECTED);
            }
            if (empty || role == null || role.isEmpty()) {
                setText(null);
                return;
            }
            switch (role) {
                case "L" -> {
                    setText("♛");
                    getStyleClass().add(LEADER);
                }
                case "F" -> {
                    setText("F");
                    getStyleClass().add(FOLLOWER);
                }
                case "s" -> {
                    setText("s");
                    getStyleClass().add(STALE);
                }
                default -> {
                    setText("l");
                    getStyleClass().add(LEARNER);
                }
            }
        }
    }
}
