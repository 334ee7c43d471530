package io.tabletop.ui;

import io.tabletop.domain.ServerId;
import io.tabletop.planner.Plan;
import io.tabletop.service.ReviewImages;
import javafx.application.Platform;
import javafx.scene.Parent;
import javafx.scene.Scene;
import javafx.scene.chart.BarChart;
import javafx.scene.control.TableView;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The console's views of a plan, built off screen and rendered at 2x: the replicas/leaders chart before
 * and after, the placement changes, and the heatmap after (with changes). Starts the JavaFX toolkit if
 * nothing has; on a machine without a display, {@code io.tabletop.Main} selects the headless Monocle platform first.
 */
public final class OffscreenReviewImages implements ReviewImages {
    @Override
    public Map<String, byte[]> render(Plan plan) throws Exception {
        try {
            Platform.startup(() -> {
            });
        } catch (IllegalStateException alreadyRunning) {
            // the console, or a test, started it
        }
        Platform.setImplicitExit(false);
        CompletableFuture<Map<String, byte[]>> out = new CompletableFuture<>();
        Platform.runLater(() -> {
            try {
                out.complete(renderOnFxThread(plan));
            } catch (RuntimeException e) {
                out.completeExceptionally(e);
            }
        });
        return out.get(60, TimeUnit.SECONDS);
    }

    /** The same images, built and rendered here; call on the JavaFX thread. */
    static Map<String, byte[]> renderOnFxThread(Plan plan) {
        Map<String, byte[]> images = new LinkedHashMap<>();
        BarChart<String, Number> before = Charts.loadChart("Before");
        BarChart<String, Number> after = Charts.loadChart("After");
        Set<ServerId> all = new LinkedHashSet<>(plan.loadsBefore().keySet());
        Charts.show(before, all, plan.loadsBefore());
        Charts.show(after, all, plan.loadsAfter());
        Charts.shareScale(before, after);
        before.setAnimated(false);
        after.setAnimated(false);
        HBox charts = new HBox(8, before, after);
        HBox.setHgrow(before, Priority.ALWAYS);
        HBox.setHgrow(after, Priority.ALWAYS);
        images.put("distribution.png", render(charts, 1200, 420));
        TableView<PlanChangesView.ChangeRow> changes = PlanChangesView.grid();
        PlanChangesView.show(changes, plan);
        images.put("placement-changes.png", render(changes, 1200, 600));
        GridPane heat = new GridPane();
        PlanChangesView.heatmap(heat, plan);
        images.put("heatmap-after.png", render(heat, 900, 40 + 28 * (plan.after().servers().size() + 1)));
        return images;
    }

    private static byte[] render(Parent node, double width, double height) {
        Scene scene = new Scene(node, width, height);
        scene.getStylesheets().add(OffscreenReviewImages.class.getResource(Styles.STYLESHEET).toExternalForm());
        node.applyCss();
        node.layout();
        return OperationView.png2x(node);
    }
}
