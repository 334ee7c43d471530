package io.tabletop.ui;

import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.Table;
import io.tabletop.planner.Plan;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.geometry.Insets;
import javafx.scene.control.Label;
import javafx.scene.control.TableCell;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.layout.GridPane;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The preview's before → after placement: one row per partition the plan touches, one column per server,
 * each cell what changes there: "+F" a copy arrives, "−F" one leaves, "F→♛" leadership arrives, "♛→F" it
 * leaves (sign and arrow as well as colour); and the heatmap of the predicted placement with each count's
 * change.
 */
final class PlanChangesView {
    static final String ARRIVING = "placement-arriving";
    static final String LEAVING = "placement-leaving";
    static final String CHANGED = "placement-changed";

    private PlanChangesView() {
    }

    /** One partition's row: the cell text per server. */
    record ChangeRow(String table, String partition, Map<ServerId, String> cells) {
    }

    static TableView<ChangeRow> grid() {
        TableView<ChangeRow> t = new TableView<>();
        t.setId("plan-changes");
        t.setFixedCellSize(22);
        t.setPlaceholder(new Label("No partition changes place."));
        return t;
    }

    static void show(TableView<ChangeRow> t, Plan plan) {
        List<ServerId> servers = plan.before().servers().stream().map(Server::id).toList();
        List<TableColumn<ChangeRow, ?>> cols = new ArrayList<>();
        TableColumn<ChangeRow, String> table = new TableColumn<>("Table");
        table.setCellValueFactory(c -> new ReadOnlyStringWrapper(c.getValue().table()));
        TableColumn<ChangeRow, String> part = new TableColumn<>("Partition");
        part.setCellValueFactory(c -> new ReadOnlyStringWrapper(c.getValue().partition()));
        cols.add(table);
        cols.add(part);
        for (ServerId s : servers) {
            TableColumn<ChangeRow, String> col = new TableColumn<>(s.value().length() > 16 ? s.value().substring(0, 8) : s.value());
            col.setUserData(s);
            col.setPrefWidth(58);
            col.setSortable(false);
            col.setCellValueFactory(c -> new ReadOnlyStringWrapper(c.getValue().cells().getOrDefault(s, "")));
            col.setCellFactory(c -> new ChangeCell());
            cols.add(col);
        }
        t.getColumns().setAll(cols);
        t.getItems().setAll(rows(plan, servers));
    }

    static List<ChangeRow> rows(Plan plan, List<ServerId> servers) {
        Set<PartitionId> touched = new LinkedHashSet<>();
        for (Step s : plan.steps()) {
            if (s.partition() != null) {
                touched.add(s.partition());
            }
        }
        List<ChangeRow> out = new ArrayList<>();
        for (PartitionId id : touched) {
            Partition b = plan.before().partition(id).orElse(null);
            Partition a = plan.after().partition(id).orElse(null);
            Map<ServerId, String> cells = new LinkedHashMap<>();
            for (ServerId s : servers) {
                String x = mark(PlacementView.role(b, s));
                String y = mark(PlacementView.role(a, s));
                if (x.isEmpty() && y.isEmpty()) {
                    continue;
                }
                cells.put(s, x.equals(y) ? x : x.isEmpty() ? "+" + y : y.isEmpty() ? "−" + x : x + "→" + y);
            }
            String table = plan.before().table(b == null ? a.table() : b.table()).map(Table::name).orElse("");
            out.add(new ChangeRow(table, id.value(), cells));
        }
        return out;
    }

    private static String mark(String role) {
        return switch (role) {
            case "L" -> "♛";
            case "F" -> "F";
            case "l" -> "l";
            case "s" -> "s";
            default -> "";
        };
    }

    static void heatmap(GridPane heat, Plan plan) {
        heat.setId("plan-heatmap");
        heat.setHgap(2);
        heat.setVgap(2);
        heat.setPadding(new Insets(4));
        PlacementView.heatmap(heat, plan.after(), plan.before());
    }

    private static final class ChangeCell extends TableCell<ChangeRow, String> {
        ChangeCell() {
            getStyleClass().add("placement-cell");
        }

        @Override
        protected void updateItem(String text, boolean empty) {
            super.updateItem(text, empty);
            getStyleClass().removeAll(ARRIVING, LEAVING, CHANGED, PlacementView.LEADER, PlacementView.FOLLOWER);
            if (empty || text == null || text.isEmpty()) {
                setText(null);
                return;
            }
            setText(text);
            if (text.startsWith("+")) {
                getStyleClass().add(ARRIVING);
            } else if (text.startsWith("−")) {
                getStyleClass().add(LEAVING);
            } else if (text.contains("→")) {
                getStyleClass().add(CHANGED);
            } else {
                getStyleClass().add(text.equals("♛") ? PlacementView.LEADER : PlacementView.FOLLOWER);
            }
        }
    }
}
