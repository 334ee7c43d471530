package io.tabletop.ui;

import io.tabletop.domain.Step;
import javafx.animation.KeyFrame;
import javafx.animation.Timeline;
import javafx.application.Platform;
import javafx.concurrent.Task;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one way the console runs background work: each job is a {@link Task} on a pool of named daemon
 * threads; results and errors come back on the FX thread. {@link #shutdown()} stops the pool (called
 * from the application's {@code stop()}).
 */
public final class UiRunner implements TaskRunner {
    private static final Logger LOG = Logger.getLogger(UiRunner.class.getName());
    private final ExecutorService pool;

    public UiRunner() {
        AtomicInteger n = new AtomicInteger();
        pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "tabletop-ui-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public <T> void background(String what, Callable<T> work, Consumer<T> onSuccess, Consumer<Throwable> onError) {
        Task<T> task = new Task<>() {
            @Override
            protected T call() throws Exception {
                return work.call();
            }
        };
        task.setOnSucceeded(e -> onSuccess.accept(task.getValue()));
        task.setOnFailed(e -> {
            LOG.log(Level.WARNING, what + " failed", task.getException());
            onError.accept(task.getException());
        });
        if (pool.isShutdown()) {
            LOG.fine(what + ": not started, the console is closing");
            return;
        }
        pool.execute(task);
    }

    /** A step of a run as a {@link StepTask} on the pool: the task progress view shows it with its bar. */
    @Override
    public StepHandle runStep(Step step, Runnable work, Runnable whenDone) {
        StepTask task = new StepTask(step, () -> {
            try {
                work.run();
            } finally {
                whenDone.run();
            }
        });
        pool.execute(task);
        return task;
    }

    /** A {@link javafx.animation.Timeline} on the FX thread. */
    @Override
    public Ticker every(Duration period, Runnable tick) {
        Timeline t = new Timeline(new KeyFrame(
                javafx.util.Duration.millis(period.toMillis()), e -> tick.run()));
        t.setCycleCount(Timeline.INDEFINITE);
        return new Ticker() {
            @Override
            public void start() {
                t.play();
            }

            @Override
            public void stop() {
                t.stop();
            }
        };
    }

    public static void fx(Runnable r) {
        if (Platform.isFxApplicationThread()) {
            r.run();
        } else {
            Platform.runLater(r);
        }
    }

    public void shutdown() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
