package io.tabletop.ui;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * How view models run work: in the background with the result handed back on the UI thread, and on a
 * fixed period. The console's is {@link UiRunner} (named daemon threads, results on the FX thread); tests
 * use {@link Immediate}, which runs everything on the caller's thread, so view models are tested without
 * the JavaFX toolkit (as JabRef's {@code CurrentThreadTaskExecutor} does).
 */
public interface TaskRunner {
    /** Runs {@code work} off the UI thread; then {@code onSuccess} or {@code onError} on it. */
    <T> void background(String what, Callable<T> work, Consumer<T> onSuccess, Consumer<Throwable> onError);

    /** Runs a step's task (a run's step) off the UI thread. */
    void execute(Runnable task);

    /** Calls {@code tick} on the UI thread every {@code period} between {@link Ticker#start} and {@link Ticker#stop}. */
    Ticker every(Duration period, Runnable tick);

    /** A periodic call. */
    interface Ticker {
        void start();

        void stop();
    }

    /**
     * Everything at once, on the caller's thread: background work runs before {@code background} returns,
     * and a ticker ticks only when the test calls {@link ManualTicker#tick()}. Not thread-safe.
     */
    final class Immediate implements TaskRunner {
        @Override
        public <T> void background(String what, Callable<T> work, Consumer<T> onSuccess, Consumer<Throwable> onError) {
            T result;
            try {
                result = work.call();
            } catch (Exception e) {
                onError.accept(e);
                return;
            }
            onSuccess.accept(result);
        }

        @Override
        public void execute(Runnable task) {
            task.run();
        }

        @Override
        public ManualTicker every(Duration period, Runnable tick) {
            return new ManualTicker(tick);
        }
    }

    /** A ticker that ticks when told to, while started. */
    final class ManualTicker implements Ticker {
        private final Runnable tick;
        private boolean running;

        ManualTicker(Runnable tick) {
            this.tick = tick;
        }

        @Override
        public void start() {
            running = true;
        }

        @Override
        public void stop() {
            running = false;
        }

        public boolean running() {
            return running;
        }

        /** One tick, if started. */
        public void tick() {
            if (running) {
                tick.run();
            }
        }
    }
}
