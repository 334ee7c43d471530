package io.tabletop.ui;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import javafx.scene.chart.BarChart;
import javafx.scene.chart.CategoryAxis;
import javafx.scene.chart.NumberAxis;
import javafx.scene.chart.XYChart;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Replicas and leaders per server as a bar chart. */
final class Charts {
    private Charts() {
    }

    static BarChart<String, Number> loadChart(String title) {
        CategoryAxis x = new CategoryAxis();
        NumberAxis y = new NumberAxis();
        y.setLabel("count");
        BarChart<String, Number> chart = new BarChart<>(x, y);
        chart.setTitle(title);
        chart.setAnimated(false);
        chart.setCategoryGap(18);
        chart.setBarGap(2);
        return chart;
    }

    /** Gives both charts the same fixed value axis, from zero to a round number above both maxima. */
    static void shareScale(BarChart<String, Number> a, BarChart<String, Number> b) {
        double max = Math.max(maxValue(a), maxValue(b));
        double step = max <= 50 ? 5 : max <= 200 ? 25 : max <= 500 ? 50 : Math.pow(10, Math.floor(Math.log10(max)));
        double upper = Math.max(step, Math.ceil(max * 1.05 / step) * step);
        for (BarChart<String, Number> c : List.of(a, b)) {
            NumberAxis y = (NumberAxis) c.getYAxis();
            y.setAutoRanging(false);
            y.setLowerBound(0);
            y.setUpperBound(upper);
            y.setTickUnit(step);
        }
    }

    private static double maxValue(BarChart<String, Number> c) {
        return c.getData().stream().flatMap(s -> s.getData().stream()).mapToDouble(d -> d.getYValue().doubleValue()).max().orElse(0);
    }

    /** Long ids (Kudu's 32-hex UUIDs) shortened to their first 8 characters, as Kudu's own tools print them. */
    static String shortId(ServerId id) {
        return id.value().length() > 16 ? id.value().substring(0, 8) : id.value();
    }

    /** Sets the chart's data; servers absent from {@code loads} (removed) show as zero. */
    /** More bars than this do not read (and one category per server costs the FX thread dearly at 1,000 servers). */
    static final int MAX_BARS = 60;

    /**
     * Every server when there are at most {@code max}; otherwise the {@code max / 2} fullest and the
     * {@code max / 2} emptiest by replicas, in that order, and the title says so: the outliers are what a
     * DBA looks for in a large cluster.
     */
    static void showOutliers(BarChart<String, Number> chart, ClusterSnapshot s, int max) {
        Map<ServerId, ServerLoad> loads = s.loads();
        List<ServerId> ids = s.servers().stream().map(Server::id).toList();
        if (ids.size() <= max) {
            chart.setTitle("Replicas and leaders per server");
            show(chart, ids, loads);
            return;
        }
        List<ServerId> byReplicas = new ArrayList<>(ids);
        byReplicas.sort(Comparator.<ServerId>comparingInt(id -> loads.containsKey(id) ? loads.get(id).replicas() : 0).reversed()
                .thenComparing(ServerId::value));
        List<ServerId> shown = new ArrayList<>(byReplicas.subList(0, max / 2));
        shown.addAll(byReplicas.subList(byReplicas.size() - max / 2, byReplicas.size()));
        chart.setTitle(String.format(Locale.ROOT, "Replicas and leaders: the %d fullest and %d emptiest of %,d servers",
                max / 2, max / 2, ids.size()));
        show(chart, shown, loads);
    }

    static void show(BarChart<String, Number> chart, Collection<ServerId> servers, Map<ServerId, ServerLoad> loads) {
        XYChart.Series<String, Number> replicas = new XYChart.Series<>();
        replicas.setName("Replicas");
        XYChart.Series<String, Number> leaders = new XYChart.Series<>();
        leaders.setName("Leaders");
        for (ServerId id : servers) {
            ServerLoad l = loads.get(id);
            replicas.getData().add(new XYChart.Data<>(shortId(id), l == null ? 0 : l.replicas()));
            leaders.getData().add(new XYChart.Data<>(shortId(id), l == null ? 0 : l.leaders()));
        }
        chart.getData().setAll(List.of(replicas, leaders));
    }
}
