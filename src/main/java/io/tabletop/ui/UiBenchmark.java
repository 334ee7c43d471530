package io.tabletop.ui;

import io.tabletop.service.Benchmark;
import io.tabletop.service.Connections;
import io.tabletop.service.RemovalService;
import javafx.application.Platform;
import javafx.scene.Scene;
import javafx.stage.Stage;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The console at scale: opened (headless where there is no display) on a large sandbox, it reports the
 * time to the first window showing the cluster, then, over N live refreshes, the time each one holds the
 * FX thread: applying the snapshot to every view (servers, partitions, chart, placement grid, heatmap)
 * plus the CSS and layout pass that follows. One frame is 16 ms. A benchmark, not a test.
 */
public final class UiBenchmark implements Benchmark {
    private final Connections connections;

    public UiBenchmark(Connections connections) {
        this.connections = connections;
    }

    @Override
    public String name() {
        return "ui";
    }

    @Override
    public String description() {
        return "Open the console on a large sandbox (1,000 servers, 100,000 partitions): first window, FX-thread time per live refresh, heap.";
    }

    @Override
    public List<Option> options() {
        return List.of(new Option("connect", "sandbox:large", "the cluster to open"),
                new Option("refreshes", "30", "live refreshes to time"));
    }

    @Override
    public void run(Map<String, String> options, PrintWriter out, PrintWriter err) throws Exception {
        int n = Benchmark.intOption(options, "refreshes");
        long t0 = System.nanoTime();
        try {
            Platform.startup(() -> {
            });
        } catch (IllegalStateException alreadyRunning) {
            // started by a test or the command line's review images
        }
        Platform.setImplicitExit(false);
        String spec = options.get("connect");
        long[] windowAt = new long[1];
        UiRunner runner = new UiRunner();
        CompletableFuture<Stage> shown = new CompletableFuture<>();
        CountDownLatch firstData = new CountDownLatch(1);
        long[] firstDataAt = new long[1];
        MainViewModel[] model = new MainViewModel[1];
        long[] applyNanos = new long[1];
        long[] layoutStart = new long[1];
        List<Long> perRefresh = Collections.synchronizedList(new ArrayList<>());
        List<Long> applyOnly = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch[] refreshed = {new CountDownLatch(1)};
        long[] lastApply = new long[1];
        Platform.runLater(() -> {
            try {
                // As the console does: the window first, then the connection opens and is read in the background.
                MainViewModel m = new MainViewModel(runner, connections, "none", null);
                model[0] = m;
                MainView view = new MainView(m, new RemovalService(), runner);
                Scene scene = new Scene(view, 1600, 1000);
                scene.getStylesheets().add(getClass().getResource(Styles.STYLESHEET).toExternalForm());
                Stage stage = new Stage();
                stage.setScene(scene);
                m.setApplyObserver(nanos -> applyNanos[0] = nanos);
                scene.addPreLayoutPulseListener(() -> layoutStart[0] = System.nanoTime());
                scene.addPostLayoutPulseListener(() -> {
                    if (applyNanos[0] > 0) {
                        long layout = System.nanoTime() - layoutStart[0];
                        lastApply[0] = applyNanos[0] + layout;
                        if (firstData.getCount() == 0) {
                            applyOnly.add(applyNanos[0]);
                        }
                        applyNanos[0] = 0;
                        if (firstData.getCount() > 0) {
                            firstDataAt[0] = System.nanoTime();
                            err.printf(Locale.ROOT, "first refresh: applying it took %.2f s, its CSS and layout %.2f s%n",
                                    (lastApply[0] - layout) / 1e9, layout / 1e9);
                            firstData.countDown();
                        } else {
                            perRefresh.add(lastApply[0]);
                        }
                        refreshed[0].countDown();
                    }
                });
                stage.show();
                windowAt[0] = System.nanoTime();
                shown.complete(stage);
                m.select(m.addSpec(spec, spec, false, null));
            } catch (RuntimeException e) {
                shown.completeExceptionally(e);
            }
        });
        Stage stage = shown.get(60, TimeUnit.SECONDS);
        if (!firstData.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the console did not show the cluster within 120 s");
        }
        err.printf(Locale.ROOT, "window after %.2f s; with the cluster after %.2f s%n", (windowAt[0] - t0) / 1e9, (firstDataAt[0] - t0) / 1e9);
        for (int i = 0; i < n; i++) {
            refreshed[0] = new CountDownLatch(1);
            Platform.runLater(() -> {
                model[0].refresh();
                Platform.requestNextPulse(); // a pulse follows even if the refresh changed nothing on screen
            });
            if (!refreshed[0].await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("refresh " + (i + 1) + " did not finish within 60 s");
            }
        }
        List<Long> sorted = new ArrayList<>(perRefresh);
        Collections.sort(sorted);
        List<Long> applies = new ArrayList<>(applyOnly);
        Collections.sort(applies);
        err.printf(Locale.ROOT, "of which applying the snapshot: median %.1f ms, max %.1f ms; the rest is CSS and layout%n",
                applies.get(applies.size() / 2) / 1e6, applies.get(applies.size() - 1) / 1e6);
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1_000_000;
        var s = model[0].snapshotProperty().get();
        out.println("| cluster | servers | partitions | first window, s | cluster shown, s | refreshes | FX ms per refresh: median | p99 | max | heap after, MB |");
        out.println("|---|---|---|---|---|---|---|---|---|---|");
        out.println(String.format(Locale.ROOT, "| %s | %,d | %,d | %.2f | %.2f | %d | %.1f | %.1f | %.1f | %d |", spec,
                s.servers().size(), s.partitions().size(), (windowAt[0] - t0) / 1e9, (firstDataAt[0] - t0) / 1e9, sorted.size(),
                sorted.get(sorted.size() / 2) / 1e6, sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1)) / 1e6,
                sorted.get(sorted.size() - 1) / 1e6, heap));
        out.flush();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        Platform.runLater(() -> {
            model[0].close();
            stage.close();
            closed.complete(null);
        });
        closed.get(30, TimeUnit.SECONDS);
        runner.shutdown();
    }
}
