package io.tabletop.ui;

import io.tabletop.planner.BucketForecast;
import io.tabletop.planner.Plan;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The preview's forecast for an engine that moves data in its own rebalance (Couchbase): per bucket and
 * node, active and replica vBuckets and their items before → after, and per bucket the replicas kept and
 * the movement (copies to build, takeovers). What the engine's own console never shows before it starts.
 */
final class ForecastView {
    private ForecastView() {
    }

    /** One line: a bucket's node, or the bucket's totals (node empty). */
    record Row(String bucket, String node, String actives, String replicas, String activeItems, String replicaItems, String note) {
    }

    static TableView<Row> table() {
        TableView<Row> t = new TableView<>();
        t.setId("forecast");
        t.getColumns().add(column("Bucket", Row::bucket, 130));
        t.getColumns().add(column("Node", Row::node, 150));
        t.getColumns().add(column("Active vBuckets", Row::actives, 120));
        t.getColumns().add(column("Replica vBuckets", Row::replicas, 120));
        t.getColumns().add(column("Active items", Row::activeItems, 140));
        t.getColumns().add(column("Replica items", Row::replicaItems, 140));
        t.getColumns().add(column("", Row::note, 320));
        t.setPlaceholder(new javafx.scene.control.Label("No forecast: Tabletop plans every move itself on this engine"));
        return t;
    }

    private static TableColumn<Row, String> column(String title, Function<Row, String> value, double width) {
        TableColumn<Row, String> c = new TableColumn<>(title);
        c.setCellValueFactory(d -> new ReadOnlyStringWrapper(value.apply(d.getValue())));
        c.setPrefWidth(width);
        c.setSortable(false);
        return c;
    }

    static List<Row> rows(Plan plan) {
        List<Row> out = new ArrayList<>();
        for (BucketForecast f : plan.forecast()) {
            out.add(new Row(f.name(), "", f.vbuckets() + " vBuckets", "", "", "",
                    String.format(Locale.ROOT, "%d of %d replica(s) kept · %d copies to build · %d takeovers",
                            f.replicasKept(), f.replicasWanted(), f.copiesToBuild(), f.takeovers())));
            for (BucketForecast.Node n : f.nodes()) {
                String gone = "leaves";
                out.add(new Row("", n.server().value(),
                        n.activeBefore() + " → " + (n.leaves() ? gone : n.activeAfter()),
                        n.replicasBefore() + " → " + (n.leaves() ? gone : n.replicasAfter()),
                        n.activeItemsBefore() + " → " + (n.leaves() ? gone : n.activeItemsAfter()),
                        n.replicaItemsBefore() + " → " + (n.leaves() ? gone : n.replicaItemsAfter()),
                        n.leaves() ? "ejected by the rebalance" : ""));
            }
        }
        return out;
    }

    static void show(TableView<Row> t, Plan plan) {
        t.getItems().setAll(rows(plan));
    }
}
