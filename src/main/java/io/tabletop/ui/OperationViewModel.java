package io.tabletop.ui;

import io.tabletop.service.PrivateData;
import io.tabletop.connector.ClusterConnector;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Units;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunProgress;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Operation;
import io.tabletop.service.RemovalService;
import io.tabletop.service.ReviewBundle;
import io.tabletop.service.Runs;
import javafx.beans.binding.Bindings;
import javafx.beans.binding.BooleanBinding;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleIntegerProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.collections.ObservableMap;
import javafx.util.Duration;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * One operation (remove, scale out, rebalance, restore, resume: {@link Operation}), from pre-check to
 * verify. A run's events reach it through a {@link RunFeed}, drained every 100 ms on the UI thread
 * (the runner's ticker), so the view gets one update per tick however many steps report. Properties are
 * read and written on the UI thread only.
 */
public final class OperationViewModel {
    public enum Stage { CHECKING, CHECKED, PREVIEW, RUNNING, DONE }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final ClusterConnector connector;
    private final StringProperty runId = new SimpleStringProperty("");
    /** The previewed plan puts the placement back as it was before the last run (not a removal). */
    private final BooleanProperty restoring = new SimpleBooleanProperty(false);
    /** After a run that did not succeed: the placement it started from can be put back. */
    private final BooleanProperty restoreOffered = new SimpleBooleanProperty(false);
    private ClusterSnapshot startedFrom;
    private RunResult lastResult;
    /** Rows per table counted at the pre-check, compared after the run; null where the engine cannot count. */
    private Map<String, Long> rowsBefore;
    private final RemovalService service;
    private final TaskRunner runner;
    private final ObjectProperty<Operation> operation = new SimpleObjectProperty<>();
    private final StringProperty confirmWord = new SimpleStringProperty("");
    /** The connection spec a resume from another process reopens (null: the console's own cluster). */
    private final String connect;
    private final IntegerProperty maxMoves = new SimpleIntegerProperty(-1);
    private Operation.Prepared prepared;
    private final ObjectProperty<Stage> stage = new SimpleObjectProperty<>(Stage.CHECKING);
    private final ObservableList<CheckResult> checks = FXCollections.observableArrayList();
    private final ObjectProperty<Plan> plan = new SimpleObjectProperty<>();
    private final ObservableList<StepRow> steps = FXCollections.observableArrayList();
    private final StringProperty confirmText = new SimpleStringProperty("");
    private final BooleanProperty balanceLeaders = new SimpleBooleanProperty(true);
    /** What a long pre-check waits for (a resume following what the stopped run left running), and how far; -1 unknown. */
    private final StringProperty checkingText = new SimpleStringProperty("");
    private final DoubleProperty checkingProgress = new SimpleDoubleProperty(-1);
    private volatile String checkingMessage = "";
    private volatile double checkingFraction = -1;
    private final ObjectProperty<RemoveServers.Strategy> strategy = new SimpleObjectProperty<>(RemoveServers.Strategy.TABLETOP);
    private final ObjectProperty<RunState> runState = new SimpleObjectProperty<>(RunState.READY);
    private final DoubleProperty progress = new SimpleDoubleProperty(0);
    private final StringProperty progressText = new SimpleStringProperty("");
    private final ObservableList<String> log = FXCollections.observableArrayList();
    private final ObservableList<TaskRunner.StepHandle> tasks = FXCollections.observableArrayList();
    /** A long engine step's progress per part (Couchbase: per node of the rebalance), 0..1, by name. */
    private final ObservableMap<String, Double> parts = FXCollections.observableMap(new TreeMap<>());
    private final ObservableList<CheckResult> postChecks = FXCollections.observableArrayList();
    private final StringProperty outcome = new SimpleStringProperty("");
    private final StringProperty error = new SimpleStringProperty("");
    private final BooleanProperty maintenanceLeft = new SimpleBooleanProperty(false);
    /** Whether moves per server follow the cluster (chosen on the pre-check page), and their ceiling. */
    private final BooleanProperty adaptive = new SimpleBooleanProperty(false);
    private final IntegerProperty ceiling = new SimpleIntegerProperty(0);
    /** The bound on moves per server now, as the run applies it. */
    private final IntegerProperty concurrency = new SimpleIntegerProperty(0);
    /** Each replica move that ended: when (seconds into the run), how long it took, and the bound it started under. */
    private final ObservableList<MoveSample> moveSamples = FXCollections.observableArrayList();

    /** Steps waiting for the engine, one line each with a countdown, brought up to date every tick. */
    private final ObservableList<String> waiting = FXCollections.observableArrayList();
    /** Whether "Replace the dead copies now" can be offered: the run found a server dead, and the engine allows it. */
    private final BooleanProperty replaceOffered = new SimpleBooleanProperty(false);
    private final StringProperty deadServers = new SimpleStringProperty("");
    private boolean replacing;

    /** One replica move on the run page's chart. */
    public record MoveSample(double at, double seconds, int concurrency) {
    }
    private final BooleanBinding canRun;
    /** The current run's events, queued from its threads and applied on the UI thread by {@link #drain()}. */
    private RunFeed feed;
    private final TaskRunner.Ticker pump;
    private Runs.Run execution;
    private Runnable onFinished = () -> {
    };

    /** A removal of {@code targets}, confirmed by their ids. */
    public OperationViewModel(ClusterConnector connector, RemovalService service, TaskRunner runner, List<ServerId> targets) {
        this(connector, null, service, runner, Operation.remove(targets, targets.stream().map(ServerId::value).toList()));
    }

    /**
     * @param connect the spec a resume in another process would reopen ({@code tabletop resume}); null for a
     *                cluster that lives in this console only (its name is journaled)
     */
    public OperationViewModel(ClusterConnector connector, String connect, RemovalService service, TaskRunner runner, Operation op) {
        this.connector = connector;
        this.connect = connect == null ? connector.name() : connect;
        this.service = service;
        this.runner = runner;
        this.operation.set(op);
        this.confirmWord.set(op.confirmWord());
        this.restoring.set(op.kind() == Operation.Kind.RESTORE);
        this.balanceLeaders.set(connector.capabilities().leaderBalanceDefault());
        this.canRun = Bindings.createBooleanBinding(() -> plan.get() != null && stage.get() == Stage.PREVIEW
                && !connector.readOnly() && operation.get().confirms(confirmText.get()), plan, stage, confirmText, operation);
        pump = runner.every(java.time.Duration.ofMillis(100), this::drain);
    }

    // ---- commands -----------------------------------------------------------------------------

    /** Reads the cluster and runs the pre-checks (and plans) in the background. */
    public void check() {
        stage.set(Stage.CHECKING);
        checks.clear();
        plan.set(null);
        error.set("");
        Operation op = operation.get();
        Operation.Options options = new Operation.Options(balanceLeaders.get(), strategy.get(), maxMoves.get() < 0 ? null : maxMoves.get());
        checkingMessage = "";
        checkingFraction = -1;
        runner.background("pre-check", () -> op.prepare(service, connector, options, (f, m) -> {
            checkingFraction = f;
            checkingMessage = m;
        }), r -> {
            prepared = r;
            rowsBefore = r.rows();
            checks.setAll(r.checks());
            plan.set(r.plan());
            stage.set(Stage.CHECKED);
        }, t -> {
            error.set("Pre-check failed: " + Errors.oneLine(t));
            checks.setAll(CheckResult.block("Read cluster", Errors.oneLine(t)));
            stage.set(Stage.CHECKED);
        });
    }

    public void preview() {
        if (plan.get() == null || stage.get() != Stage.CHECKED) {
            return;
        }
        steps.setAll(plan.get().steps().stream().map(StepRow::new).toList());
        stage.set(Stage.PREVIEW);
    }

    public void back() {
        if (stage.get() == Stage.PREVIEW) {
            confirmText.set("");
            stage.set(Stage.CHECKED);
        }
    }

    /** Starts the previewed plan; the same object the preview showed is what runs. */
    public void run() {
        if (!canRun.get()) {
            return;
        }
        Instant launched = Instant.now();
        Plan p = plan.get();
        Operation op = operation.get();
        Operation.Prepared ready = prepared;
        if (op.kind() != Operation.Kind.RESTORE && op.kind() != Operation.Kind.RESUME) {
            startedFrom = p.before(); // a resumed run's starting point is restored from the Runs tab
        }
        restoreOffered.set(false);
        parts.clear();
        RunFeed feed = new RunFeed(runner, steps, log, tasks, runState, plan, parts, concurrency, moveSamples, connector.clock());
        this.feed = feed;
        Runs.Run run;
        try {
            ExecutorOptions how = ExecutorOptions.defaults(p.summary().maxMovesPerServer()).withPrelude(ready.prelude(launched)).withClock(connector.clock());
            if (adaptive.get()) {
                how = how.withCeiling(Math.max(p.summary().maxMovesPerServer(), ceiling.get() > 0 ? ceiling.get() : 2 * p.summary().maxMovesPerServer()));
            }
            concurrency.set(how.maxMovesPerServer());
            moveSamples.clear();
            run = op.start(service, ready, connector, connect, how,
                    feed.listener(), feed.dispatcher());
        } catch (Exception e) { // the journal cannot be written (or, for a resume, read)
            Logger.getLogger(OperationViewModel.class.getName()).log(Level.SEVERE, "cannot start the run's journal", e);
            log.add(LocalTime.now().format(TIME) + "  ERROR  not started: cannot write the run's journal (" + e.getMessage() + ")");
            return;
        }
        execution = run;
        runId.set(run.runId());
        log.add(LocalTime.now().format(TIME) + "  Run " + run.runId() + ": journal " + run.journal().dir());
        stage.set(Stage.RUNNING);
        pump.start();
        run.done().whenComplete((result, t) -> feed.post(() -> finished(result)));
    }

    /** Pauses a running run, resumes a paused one. */
    public void togglePause() {
        if (runState.get() == RunState.RUNNING) {
            pause();
        } else if (runState.get() == RunState.PAUSED) {
            resume();
        }
    }

    public void pause() {
        if (execution != null) {
            execution.pause();
        }
    }

    public void resume() {
        if (execution != null) {
            execution.resume();
        }
    }

    public void cancel() {
        if (execution != null) {
            execution.cancel();
        }
    }

    /** Steps that wait for the engine now: "Step 12 · Move a-18 ts-1 → ts-2 · 3m 52s left · why". */
    public ObservableList<String> waiting() {
        return waiting;
    }

    public BooleanProperty replaceOfferedProperty() {
        return replaceOffered;
    }

    /** The servers the run found dead, comma-separated, for the confirmation. */
    public StringProperty deadServersProperty() {
        return deadServers;
    }

    /**
     * The operator's "Replace the dead copies now" (after the view's confirmation): every copy on a server the
     * run found dead is dropped from its tablet's config (audited), so that the engine builds new ones now.
     */
    public void replaceDeadCopies() {
        Runs.Run run = execution;
        if (run == null || replacing) {
            return;
        }
        replacing = true;
        replaceOffered.set(false);
        runner.background("replace dead copies", run::replaceDeadCopiesNow, n -> {
            replacing = false;
            log.add(LocalTime.now().format(TIME) + "  Dropped " + n + " copy(ies) on " + deadServers.get()
                    + "; the engine builds new ones now (audited)");
        }, t -> {
            replacing = false;
            Logger.getLogger(OperationViewModel.class.getName()).log(Level.WARNING, "replace dead copies", t);
            error.set("Replacing the dead copies failed: " + Errors.oneLine(t) + ". The engine still replaces them after its own timeout.");
            replaceOffered.set(true);
        });
    }

    /** The waiting lines and the offer to replace dead copies, from the feed; UI thread. */
    private void refreshWaiting() {
        RunFeed f = feed;
        if (f == null) {
            return;
        }
        long now = connector.clock().millis();
        List<String> lines = new java.util.ArrayList<>();
        for (RunFeed.Waiting w : f.waiting().values()) {
            String left = w.until() == null ? "waiting" : w.until().toEpochMilli() > now
                    ? Units.duration((w.until().toEpochMilli() - now) / 1000.0) + " left" : "any moment now";
            lines.add("Step " + (w.step().index() + 1) + " · " + w.step().describe() + " · " + left + " · " + w.reason());
        }
        if (!lines.equals(waiting)) {
            waiting.setAll(lines);
        }
        deadServers.set(String.join(", ", f.dead()));
        boolean offer = !f.dead().isEmpty() && connector.canEvictDeadCopies() && !replacing
                && runState.get() != null && !runState.get().isTerminal();
        if (offer != replaceOffered.get()) {
            replaceOffered.set(offer);
        }
    }

    /**
     * After a cancelled or failed run: takes the servers this run put in maintenance out of it again, so
     * they take new replicas as before. Nothing else changes; the moves that finished stay.
     */
    public void exitMaintenance() {
        List<Step> exits = plan.get().steps().stream().filter(s -> s.type() == StepType.ENTER_MAINTENANCE)
                .map(s -> Step.server(s.phase(), StepType.EXIT_MAINTENANCE, s.server(), "operator: exit maintenance"))
                .toList();
        String run = runId.get();
        String cluster = plan.get().before().cluster();
        runner.background("exit maintenance", () -> {
            for (Step s : exits) {
                service.runs().executeAudited(connector, cluster, run, s.withIndex(0), "operator: exit maintenance after run " + run);
            }
            return service.postChecks(plan.get(), connector);
        }, r -> {
            maintenanceLeft.set(false);
            log.add(LocalTime.now().format(TIME) + "  Exited maintenance on "
                    + exits.stream().map(s -> s.server().value()).collect(Collectors.joining(", ")));
            outcome.set(outcome.get() + " Maintenance mode has been cleared.");
            postChecks.setAll(r);
            onFinished.run();
        }, t -> error.set("Exit maintenance failed: " + Errors.oneLine(t)));
    }

    public BooleanProperty maintenanceLeftProperty() {
        return maintenanceLeft;
    }

    public void setOnFinished(Runnable r) {
        onFinished = r;
    }

    private void drain() {
        if (stage.get() == Stage.CHECKING) {
            checkingText.set(checkingMessage);
            checkingProgress.set(checkingFraction);
        } else if (!checkingText.get().isEmpty()) {
            checkingText.set("");
        }
        if (feed != null) {
            feed.drain();
            refreshWaiting();
        }
        if (execution != null) {
            RunProgress pr = execution.execution().progress();
            progress.set(pr.fraction());
            double eta = pr.etaSeconds();
            progressText.set(String.format(Locale.ROOT, "%.0f%% · %d of %d steps · %s of %s%s%s", pr.fraction() * 100,
                    pr.finishedSteps(), pr.totalSteps(), Units.bytes(pr.bytesDone()), Units.bytes(pr.bytesTotal()),
                    pr.waiting() > 0 ? " · " + pr.waiting() + " waiting for the engine" : "",
                    execution.execution().state().isTerminal() ? " · " + Units.duration(pr.elapsedSeconds())
                            : eta < 0 ? " · ETA estimating…" : " · ETA " + Units.duration(eta)));
        }
    }

    private void finished(RunResult result) {
        lastResult = result;
        drain();
        pump.stop();
        if (result == null) {
            outcome.set("The run ended unexpectedly; details in " + io.tabletop.service.AppPaths.logFile() + ".");
        } else {
            outcome.set(restoring.get() ? switch (result.state()) {
                case SUCCEEDED -> "Restored: replicas and leaders are back where they were before the run ("
                        + Units.duration(result.seconds()) + ").";
                case CANCELLED -> "Restore cancelled after " + result.count(StepState.SUCCEEDED) + " steps; nothing is lost.";
                default -> "Restore failed: " + result.failures().stream().findFirst().map(f -> "step " + (f.step().index() + 1)
                        + " " + f.step().describe() + ": " + f.message()).orElse("details in " + io.tabletop.service.AppPaths.logFile()) + ".";
            } : switch (result.state()) {
                case SUCCEEDED -> operation.get().succeeded(Units.duration(result.seconds()));
                case CANCELLED -> "Cancelled: " + movesDone(result) + " of " + plan.get().summary().replicaMoves()
                        + " replica moves done, " + (result.count(StepState.CANCELLED) + result.count(StepState.SKIPPED))
                        + " steps not run. " + (operation.get().leavesMaintenance() ? "The servers stay in maintenance mode; nothing is lost. "
                        + "Preview the restore to put everything back, or exit maintenance to keep the moves."
                        : "Nothing is lost. Preview the restore to put everything back, or resume the run from the Runs tab.");
                default -> "Failed: " + result.failures().stream().findFirst().map(f -> "step " + (f.step().index() + 1)
                        + " " + f.step().describe() + ": " + f.message()).orElse("details in " + io.tabletop.service.AppPaths.logFile())
                        + ". Steps after it did not run; the server was not stopped.";
            });
        }
        if (result != null && !result.timeline().describe().isEmpty()) {
            log.add(LocalTime.now().format(TIME) + "  Timeline: " + result.timeline().describe() + " (launch: Run clicked)");
        }
        boolean inMaintenance = result != null && result.state() != RunState.SUCCEEDED && result.steps().stream().anyMatch(o ->
                o.step().type() == StepType.ENTER_MAINTENANCE && o.state() == StepState.SUCCEEDED);
        maintenanceLeft.set(inMaintenance && !restoring.get());
        restoreOffered.set(result != null && result.state() != RunState.SUCCEEDED && !restoring.get() && startedFrom != null);
        Map<String, Long> rows = rowsBefore;
        runner.background("post-checks", () -> service.postChecks(plan.get(), connector, rows), r -> {
            postChecks.setAll(r);
            stage.set(Stage.DONE);
            onFinished.run();
        }, t -> {
            postChecks.setAll(CheckResult.block("Post-checks", Errors.oneLine(t)));
            stage.set(Stage.DONE);
            onFinished.run();
        });
    }

    private static long movesDone(RunResult r) {
        return r.steps().stream().filter(o -> o.state() == StepState.SUCCEEDED
                && o.step().type() == StepType.MOVE_REPLICA).count();
    }

    /**
     * After a cancelled or failed run: plans putting every replica and leader back where they were before
     * it (servers out of maintenance first), and shows it as a preview like any other plan.
     */
    public void previewRestore() {
        if (startedFrom == null) {
            return;
        }
        Operation restore = Operation.restore(startedFrom, "the placement before run " + (runId.get().isEmpty() ? "" : runId.get()));
        error.set("");
        runner.background("plan the restore", () -> restore.prepare(service, connector, Operation.Options.defaults()), r -> {
            rowsBefore = r.rows();
            checks.setAll(r.checks());
            if (r.plan() == null) {
                error.set("Cannot restore: " + r.checks().stream().filter(c -> c.verdict() == Verdict.BLOCK)
                        .map(c -> c.name() + ": " + c.message()).findFirst().orElse("a check blocks"));
                return;
            }
            prepared = r;
            operation.set(restore);
            confirmWord.set(restore.confirmWord());
            restoring.set(true);
            restoreOffered.set(false);
            plan.set(r.plan());
            confirmText.set("");
            outcome.set("");
            postChecks.clear();
            log.add(LocalTime.now().format(TIME) + "  Planned the restore: " + r.plan().summary().replicaMoves() + " replica moves, "
                    + r.plan().summary().leaderTransfers() + " leader transfers");
            stage.set(Stage.CHECKED);
            preview();
        }, t -> error.set("Cannot plan the restore: " + Errors.oneLine(t)));
    }

    /**
     * Writes the change-review bundle for what is shown now: the previewed plan, or after a run also its
     * outcome, post-checks, audit records and the cluster as read now. {@code images} (name → PNG bytes)
     * are the views rendered by the caller; the HTML embeds them. Runs in the background; reports the
     * directory in the log, or an error, on the FX thread.
     */
    public void exportReview(Map<String, byte[]> images) {
        Plan p = plan.get();
        if (p == null) {
            return;
        }
        List<CheckResult> pre = List.copyOf(checks);
        RunResult result = stage.get() == Stage.DONE ? lastResult : null;
        List<CheckResult> post = List.copyOf(postChecks);
        String id = runId.get();
        Path dir = AppPaths.home().resolve("reviews").resolve(
                p.before().cluster().replaceAll("[^A-Za-z0-9._-]", "_") + "-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                        .withZone(ZoneOffset.UTC).format(Instant.now()));
        runner.background("export review", () -> {
            PrivateData.createDirectories(dir);
            for (Map.Entry<String, byte[]> e : images.entrySet()) {
                PrivateData.write(dir.resolve(e.getKey()), e.getValue());
            }
            ReviewBundle.RunPart run = null;
            if (result != null) {
                List<String> audit = new ArrayList<>();
                Path file = service.runs().audit().file();
                if (!id.isEmpty() && Files.exists(file)) {
                    for (String line : Files.readAllLines(file)) {
                        if (line.contains("\"run\":\"" + id + "\"")) {
                            audit.add(line);
                        }
                    }
                }
                run = new ReviewBundle.RunPart(id, result, post, connector.snapshot(), audit);
            }
            ReviewBundle.write(dir, new ReviewBundle.Review(p, pre,
                    System.getProperty("user.name", "unknown"), Instant.now(), run));
            return dir;
        }, d -> log.add(LocalTime.now().format(TIME) + "  Review bundle written to " + d),
                t -> error.set("Cannot write the review bundle: " + Errors.oneLine(t)));
    }

    // ---- properties ----------------------------------------------------------------------------

    public BooleanProperty restoringProperty() {
        return restoring;
    }

    public BooleanProperty restoreOfferedProperty() {
        return restoreOffered;
    }

    public ReadOnlyObjectProperty<Operation> operationProperty() {
        return operation;
    }

    /** The operation's servers (removed, or new for a scale-out). */
    public List<ServerId> targets() {
        return operation.get().servers();
    }

    public String confirmWord() {
        return confirmWord.get();
    }

    public StringProperty confirmWordProperty() {
        return confirmWord;
    }

    /** Rebalance only: at most this many moves; negative for as many as help. */
    public IntegerProperty maxMovesProperty() {
        return maxMoves;
    }

    /** A saved snapshot opened offline: everything but Run. */
    public boolean offline() {
        return connector.readOnly();
    }

    /** The journaled run's id once it has started; empty before. */
    public StringProperty runIdProperty() {
        return runId;
    }

    public ReadOnlyObjectProperty<Stage> stageProperty() {
        return stage;
    }

    public ObservableList<CheckResult> checks() {
        return checks;
    }

    public ReadOnlyObjectProperty<Plan> planProperty() {
        return plan;
    }

    public ObservableList<StepRow> steps() {
        return steps;
    }

    public StringProperty confirmTextProperty() {
        return confirmText;
    }

    public ObjectProperty<RemoveServers.Strategy> strategyProperty() {
        return strategy;
    }

    /** Whether the engine can empty a server by itself, so the strategy choice is offered. */
    public boolean engineDrainOffered() {
        return operation.get().offersStrategy(connector);
    }

    /** Whether the alternative strategy is the engine's graceful failover first (Couchbase), not its own drain. */
    public boolean failoverFirstOffered() {
        return connector.capabilities().failoverFirst();
    }

    /**
     * The operator leaves the tab: a resume that was prepared but not started lets go of the run's and the
     * cluster's locks it took, so that another process (or a later resume here) can take them.
     */
    public void discard() {
        Operation op = operation.get();
        if (op.kind() == Operation.Kind.RESUME && execution == null && op.run() != null) {
            service.runs().release(op.run().record().runId());
        }
    }

    /** Why leader balance is off unless asked for, on an engine where each leader change risks writes; "" elsewhere. */
    public String balanceLeadersNote() {
        return connector.capabilities().leaderBalanceDefault() ? ""
                : "off unless you tick it: on this engine each leader change is a moment in which writes "
                + "not yet on the new leader can be lost";
    }

    public javafx.beans.property.ReadOnlyStringProperty checkingTextProperty() {
        return checkingText;
    }

    public javafx.beans.property.ReadOnlyDoubleProperty checkingProgressProperty() {
        return checkingProgress;
    }

    public BooleanProperty balanceLeadersProperty() {
        return balanceLeaders;
    }

    public BooleanBinding canRunBinding() {
        return canRun;
    }

    public ReadOnlyObjectProperty<RunState> runStateProperty() {
        return runState;
    }

    public DoubleProperty progressProperty() {
        return progress;
    }

    public StringProperty progressTextProperty() {
        return progressText;
    }

    public ObservableList<String> log() {
        return log;
    }

    public BooleanProperty adaptiveProperty() {
        return adaptive;
    }

    /** The ceiling of the adaptive mode; 0 for twice the engine's default. */
    public IntegerProperty ceilingProperty() {
        return ceiling;
    }

    public IntegerProperty concurrencyProperty() {
        return concurrency;
    }

    public ObservableList<MoveSample> moveSamples() {
        return moveSamples;
    }

    public ObservableMap<String, Double> parts() {
        return parts;
    }

    public ObservableList<TaskRunner.StepHandle> tasks() {
        return tasks;
    }

    public ObservableList<CheckResult> postChecks() {
        return postChecks;
    }

    public StringProperty outcomeProperty() {
        return outcome;
    }

    public StringProperty errorProperty() {
        return error;
    }

    public Verdict verdict() {
        return checks.stream().map(CheckResult::verdict).reduce(Verdict.PASS, Verdict::worst);
    }
}
