package io.tabletop.ui;

import io.tabletop.domain.Step;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
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

    /**
     * Runs one step of a run off the UI thread as something the run page shows with its own bar (the
     * console: a JavaFX task). {@code whenDone} is called once the work has returned, on any thread.
     */
    StepHandle runStep(Step step, Runnable work, Runnable whenDone);

    /** Tells the runner that UI-thread work is waiting for the next tick (a run's events). */
    default void wake() {
    }

    /** A running step as the run page shows it. */
    interface StepHandle {
        Step step();

        /** The step's progress, from any thread; the handle shows the latest. */
        void report(double fraction, String message);
    }

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
        private final List<ManualTicker> tickers = new ArrayList<>();
        private final Semaphore woken = new Semaphore(0);

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

        /** Runs the step's work at once, on the caller's thread (the test's, which plays the UI thread). */
        @Override
        public StepHandle runStep(Step step, Runnable work, Runnable whenDone) {
            PlainStep handle = new PlainStep(step);
            work.run();
            whenDone.run();
            return handle;
        }

        @Override
        public void wake() {
            woken.release();
        }

        @Override
        public ManualTicker every(Duration period, Runnable tick) {
            ManualTicker t = new ManualTicker(tick);
            tickers.add(t);
            return t;
        }

        /** The tickers made so far, in order. */
        public List<ManualTicker> tickers() {
            return List.copyOf(tickers);
        }

        /**
         * Plays the UI thread until {@code done}: ticks every started ticker, then waits for the next
         * {@link #wake()} (work from another thread, such as a run's coordinator) or fails after
         * {@code timeout}. No sleeping: each round is started by a wake-up.
         */
        public void tickUntil(BooleanSupplier done, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                woken.drainPermits();
                for (ManualTicker t : List.copyOf(tickers)) {
                    t.tick();
                }
                if (done.getAsBoolean()) {
                    return;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || !woken.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                    throw new IllegalStateException("not done within " + timeout);
                }
            }
        }
    }

    /** A step shown without a toolkit: it keeps the latest progress. */
    final class PlainStep implements StepHandle {
        private final Step step;
        private volatile double fraction = -1;
        private volatile String message = "";

        PlainStep(Step step) {
            this.step = step;
        }

        @Override
        public Step step() {
            return step;
        }

        @Override
        public void report(double fraction, String message) {
            this.fraction = fraction;
            this.message = message;
        }

        public double fraction() {
            return fraction;
        }

        public String message() {
            return message;
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
