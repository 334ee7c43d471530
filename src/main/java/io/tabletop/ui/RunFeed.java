package io.tabletop.ui;

import io.tabletop.domain.Step;
import io.tabletop.domain.Units;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.ObjectProperty;
import javafx.collections.ObservableList;
import javafx.collections.ObservableMap;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A run's events, from its own threads to the operation's view model: each event becomes an update queued
 * here and applied on the UI thread by {@link #drain()} (at most 5,000 per tick), so the view gets one batch
 * per tick however many steps report. Each step runs through {@link TaskRunner#runStep} (in the console a
 * {@link StepTask}, which the task progress view shows with its own bar). Queueing is thread-safe; {@link #drain()} runs on the UI thread only.
 */
final class RunFeed {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final TaskRunner runner;
    private final ObservableList<StepRow> steps;
    private final ObservableList<String> log;
    private final ObservableList<TaskRunner.StepHandle> tasks;
    private final ObjectProperty<RunState> runState;
    private final ObjectProperty<Plan> plan;
    private final ObservableMap<String, Double> parts;
    private final IntegerProperty concurrency;
    private final ObservableList<OperationViewModel.MoveSample> samples;
    private final java.time.InstantSource clock;
    private final long startMillis;
    private final Queue<Runnable> pending = new ConcurrentLinkedQueue<>();
    /** Steps waiting for the engine, by index: UI thread only. */
    private final Map<Integer, Waiting> waiting = new java.util.TreeMap<>();
    /** Servers the run found dead: UI thread only. */
    private final java.util.Set<String> dead = new java.util.LinkedHashSet<>();

    /** A step that waits for the engine: what it is, why, and until when on the run's clock (null: not known). */
    record Waiting(Step step, String reason, java.time.Instant until) {
    }

    /** UI thread. */
    Map<Integer, Waiting> waiting() {
        return waiting;
    }

    /** UI thread. */
    java.util.Set<String> dead() {
        return dead;
    }
    private final Map<Integer, TaskRunner.StepHandle> running = new ConcurrentHashMap<>();

    RunFeed(TaskRunner runner, ObservableList<StepRow> steps, ObservableList<String> log, ObservableList<TaskRunner.StepHandle> tasks,
            ObjectProperty<RunState> runState, ObjectProperty<Plan> plan, ObservableMap<String, Double> parts,
            IntegerProperty concurrency, ObservableList<OperationViewModel.MoveSample> samples, java.time.InstantSource clock) {
        this.runner = runner;
        this.steps = steps;
        this.log = log;
        this.tasks = tasks;
        this.runState = runState;
        this.plan = plan;
        this.parts = parts;
        this.concurrency = concurrency;
        this.samples = samples;
        this.clock = clock;
        this.startMillis = clock.millis();
    }

    /** Queues an update for the UI thread. */
    void post(Runnable update) {
        pending.add(update);
        runner.wake();
    }

    /** Applies the queued updates; UI thread. */
    void drain() {
        Runnable r;
        int n = 0;
        while (n++ < 5000 && (r = pending.poll()) != null) {
            r.run();
        }
    }

    ExecutionListener listener() {
        return new ExecutionListener() {
            @Override
            public void runStateChanged(RunState from, RunState to) {
                post(() -> runState.set(to));
            }

            @Override
            public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                if (to.isTerminal() && (from != StepState.PENDING || to == StepState.SUCCEEDED)) {
                    String line = LocalTime.now().format(TIME) + "  " + (to == StepState.SUCCEEDED ? "✓ " : to == StepState.REPLANNED ? "↻ " : to == StepState.SKIPPED ? "– " : "✗ ")
                            + (step.index() + 1) + ". " + step.describe()
                            + (step.bytes() > 0 ? " (" + Units.bytes(step.bytes()) + ")" : "")
                            + (to == StepState.SUCCEEDED ? "" : " " + to.name().toLowerCase(Locale.ROOT))
                            + (message.isEmpty() ? "" : ": " + message);
                    post(() -> log.add(line));
                }
                post(() -> {
                    StepRow row = steps.get(step.index());
                    row.stateProperty().set(to);
                    row.messageProperty().set(message);
                    if (to != StepState.WAITING) {
                        waiting.remove(step.index());
                    }
                });
            }

            @Override
            public void stepProgress(Step step, double fraction, String message) {
                TaskRunner.StepHandle t = running.get(step.index());
                if (t != null) {
                    t.report(fraction, message); // the handle keeps only the latest (a JavaFX task coalesces them)
                }
            }

            @Override
            public void stepParts(Step step, Map<String, Double> fractions) {
                Map<String, Double> copy = Map.copyOf(fractions);
                post(() -> {
                    parts.keySet().retainAll(copy.keySet());
                    parts.putAll(copy);
                });
            }

            @Override
            public void stepWaiting(Step step, String reason, java.time.Instant until) {
                post(() -> waiting.put(step.index(), new Waiting(step, reason, until)));
            }

            @Override
            public void serverLost(io.tabletop.domain.ServerId server, String why) {
                post(() -> dead.add(server.value()));
            }

            @Override
            public void moveTimed(Step step, double seconds, int level) {
                OperationViewModel.MoveSample m = new OperationViewModel.MoveSample((clock.millis() - startMillis) / 1000.0, seconds, level);
                post(() -> samples.add(m));
            }

            @Override
            public void concurrencyChanged(int from, int to, String reason) {
                post(() -> concurrency.set(to));
            }

            @Override
            public void log(Level level, String message) {
                String line = LocalTime.now().format(TIME) + "  " + (level == Level.INFO ? "" : level + "  ") + message;
                post(() -> log.add(line));
            }

            @Override
            public void planReplaced(Plan next, String why) {
                post(() -> {
                    waiting.clear();
                    plan.set(next);
                    steps.setAll(next.steps().stream().map(StepRow::new).toList());
                });
            }
        };
    }

    StepDispatcher dispatcher() {
        return (step, work) -> post(() -> {
            TaskRunner.StepHandle handle = runner.runStep(step, work, () -> post(() -> {
                TaskRunner.StepHandle h = running.remove(step.index());
                if (h != null) {
                    tasks.remove(h);
                }
            }));
            running.put(step.index(), handle);
            tasks.add(handle);
        });
    }
}
