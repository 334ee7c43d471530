package io.tabletop.executor;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Units;
import io.tabletop.planner.Estimator;
import io.tabletop.planner.Plan;
import io.tabletop.planner.StepScheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs one plan through a connector: phases in order, steps within the concurrency rules the estimate
 * assumed ({@link StepScheduler}), a state machine per step ({@link StepState}), retries with backoff for
 * transient failures, pause / resume / cancel, and events for progress.
 *
 * <p>After a step fails for good, the steps already free to run finish, no barrier step (health gate,
 * stop, unregister) runs, and the run ends FAILED: a server is never stopped with replicas still on it.
 *
 * <p>Thread-safe. A coordinator thread owned by the run schedules; steps run on the dispatcher.
 */
public final class PlanExecution {
    private static final Logger LOG = Logger.getLogger(PlanExecution.class.getName());
    private static final AtomicInteger RUNS = new AtomicInteger();

    private final Plan plan;
    private final ClusterConnector connector;
    private final ExecutorOptions options;
    private final ExecutionListener listener;
    private final StepDispatcher dispatcher;
    private final ExecutorService ownPool;
    private final ExecutorService coordinator;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** True while the coordinator has seen every change and waits; cleared by whoever signals one. */
    private volatile boolean waiting;
    private final CountDownLatch cancelSignal = new CountDownLatch(1);
    private final StepState[] states;
    private final String[] messages;
    private final ConnectorException.Kind[] failures;
    private final double[] fractions;
    private final double[] weights;
    private final double totalWeight;
    private final CompletableFuture<RunResult> done = new CompletableFuture<>();
    private final StepScheduler scheduler;
    private final DriftGuard drift;
    /** Clock millis when each running step last showed progress, its last message, and whether it is flagged as stalled. */
    private final long[] lastProgressAt;
    private final String[] lastEngineMessage;
    private final boolean[] stallFlagged;
    private final ScheduledExecutorService monitor;
    /** Partitions found without a live leader or majority at the last health look, to confirm on the next. */
    private Set<PartitionId> suspect = Set.of();
    private long nextHealthAt;
    /** Written under the lock, read without it (the console reads it every frame). */
    private volatile RunState state = RunState.READY;
    /** Progress as of the last change, published under the lock for readers that must not wait for it. */
    private volatile RunProgress published;
    private double terminalWeight;
    private int terminalCount;
    private long terminalBytes;
    private final Set<Integer> runningSteps = new LinkedHashSet<>();
    /** Null for a fixed bound on moves per server. Guarded by the lock. */
    private final AdaptiveConcurrency adaptive;
    /** The bound on moves per server now, for readers that must not wait for the lock. */
    private volatile int concurrency;
    /** Per step: the run clock's millis when it started, and the adaptive epoch it started in. */
    private final long[] startedAtMillis;
    private final int[] startedInEpoch;
    private final int[] startedAtLevel;
    /** Moves handed out by the scheduler that wait for {@link Prelude#movesAfter}; counted in {@link #inFlight}. */
    private final List<Step> held = new ArrayList<>();
    private boolean pauseRequested;
    private boolean cancelRequested;
    private boolean failed;
    private int inFlight;
    private volatile long startNanos;
    /** When the operator launched the run; the timeline's origin. */
    private Instant launchedAt;
    private boolean anyStepStarted;
    private double firstStepAt = Double.NaN;
    private double firstMoveAt = Double.NaN;
    private double lastMoveEndAt = Double.NaN;

    /** Runs on the run's own pool of named daemon threads. */
    public PlanExecution(Plan plan, ClusterConnector connector, ExecutorOptions options, ExecutionListener listener) {
        this(plan, connector, options, listener, null);
    }

    /** Runs each step through {@code dispatcher} (null: the run's own pool). */
    public PlanExecution(Plan plan, ClusterConnector connector, ExecutorOptions options, ExecutionListener listener,
                         StepDispatcher dispatcher) {
        this.plan = plan;
        this.connector = connector;
        this.options = options;
        this.listener = listener == null ? ExecutionListener.NONE : listener;
        int run = RUNS.incrementAndGet();
        if (dispatcher == null) {
            this.ownPool = Executors.newCachedThreadPool(named("tabletop-run-" + run + "-step"));
            this.dispatcher = (step, work) -> ownPool.execute(work);
        } else {
            this.ownPool = null;
            this.dispatcher = dispatcher;
        }
        this.coordinator = Executors.newSingleThreadExecutor(named("tabletop-run-" + run + "-coordinator"));
        int n = plan.steps().size();
        this.states = new StepState[n];
        this.messages = new String[n];
        this.failures = new ConnectorException.Kind[n];
        this.fractions = new double[n];
        this.weights = new double[n];
        Arrays.fill(states, StepState.PENDING);
        Arrays.fill(messages, "");
        double sum = 0;
        for (Step s : plan.steps()) {
            weights[s.index()] = Math.max(0.05, Estimator.stepSeconds(s, plan.capabilities()));
            sum += weights[s.index()];
        }
        this.totalWeight = sum;
        this.scheduler = new StepScheduler(plan.steps(), options.maxMovesPerServer());
        this.adaptive = options.adaptive() ? new AdaptiveConcurrency(options.maxMovesPerServer(), options.ceiling()) : null;
        this.concurrency = options.maxMovesPerServer();
        this.startedAtMillis = new long[n];
        this.startedInEpoch = new int[n];
        this.startedAtLevel = new int[n];
        this.drift = new DriftGuard(plan, connector, this.listener);
        this.lastProgressAt = new long[n];
        this.lastEngineMessage = new String[n];
        this.stallFlagged = new boolean[n];
        Arrays.fill(lastEngineMessage, "");
        this.monitor = Executors.newSingleThreadScheduledExecutor(named("tabletop-run-" + run + "-monitor"));
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger k = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + k.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // ---- commands -------------------------------------------------------------------------

    /** Starts the run; returns at once. The result completes when the run has ended. */
    public CompletableFuture<RunResult> start() {
        lock.lock();
        try {
            if (state != RunState.READY) {
                throw new IllegalStateException("run already started (" + state + ")");
            }
            startNanos = System.nanoTime();
            launchedAt = options.prelude() != null && options.prelude().launchedAt() != null ? options.prelude().launchedAt() : Instant.now();
            setRunState(RunState.RUNNING);
        } finally {
            lock.unlock();
        }
        listener.log(ExecutionListener.Level.INFO, "Run started: " + plan.steps().size() + " steps in "
                + plan.phases().size() + " phase(s), " + (adaptive == null ? "at most " + options.maxMovesPerServer() + " moves per server"
                : "moves per server adaptive: from " + options.maxMovesPerServer() + ", never above " + options.ceiling()));
        if (!movesMayStart()) {
            listener.log(ExecutionListener.Level.INFO, "Replica moves start once the rows are counted; other steps go on meanwhile");
            options.prelude().movesAfter().whenComplete((r, e) -> {
                lock.lock();
                try {
                    wake();
                } finally {
                    lock.unlock();
                }
            });
        }
        coordinator.execute(this::coordinate);
        long period = Math.max(1, options.monitorPeriod().toMillis());
        nextHealthAt = options.clock().millis() + options.healthEvery().toMillis();
        monitor.scheduleWithFixedDelay(this::watch, period, period, TimeUnit.MILLISECONDS);
        return done;
    }

    /** No new step starts; steps in flight finish. */
    public void pause() {
        lock.lock();
        try {
            if (state == RunState.RUNNING) {
                pauseRequested = true;
                setRunState(RunState.PAUSED);
                listener.log(ExecutionListener.Level.INFO, "Paused: " + inFlight + " step(s) in flight will finish; nothing new starts");
                wake();
            }
        } finally {
            lock.unlock();
        }
    }

    public void resume() {
        lock.lock();
        try {
            if (state == RunState.PAUSED) {
                pauseRequested = false;
                setRunState(RunState.RUNNING);
                listener.log(ExecutionListener.Level.INFO, "Resumed");
                wake();
            }
        } finally {
            lock.unlock();
        }
    }

    /** No new step starts; steps in flight finish; the rest are CANCELLED. */
    public void cancel() {
        lock.lock();
        try {
            if (!state.isTerminal() && !cancelRequested) {
                cancelRequested = true;
                setRunState(RunState.CANCELLING);
                listener.log(ExecutionListener.Level.WARN, "Cancelling: " + inFlight + " step(s) in flight will finish");
                cancelSignal.countDown();
                wake();
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- queries ------------------------------------------------------------------------------

    /**
     * True while the coordinator has taken in every change so far and waits for a step to end or a
     * command: nothing more is journaled until something happens. Lets a test stand in for a dead process.
     */
    public boolean coordinatorWaiting() {
        return waiting;
    }

    public Plan plan() {
        return plan;
    }

    /** Never waits for the run's lock: a listener writing the journal to a slow disk holds it. */
    public RunState state() {
        return state;
    }

    public StepState stateOf(int step) {
        lock.lock();
        try {
            return states[step];
        } finally {
            lock.unlock();
        }
    }

    public CompletableFuture<RunResult> result() {
        return done;
    }

    /**
     * Weighted progress (by estimated step time) and counts, as of the last step change or progress report.
     * Never waits for the run's lock, so a UI thread polling it is never held up by a listener (the journal
     * syncs to disk inside one).
     */
    public RunProgress progress() {
        RunProgress p = published;
        double elapsed = startNanos == 0 ? 0 : (System.nanoTime() - startNanos) / 1e9;
        if (p == null) {
            return new RunProgress(totalWeight == 0 ? 1 : 0, 0, states.length, 0, 0, plan.summary().bytesToMove(), elapsed);
        }
        return new RunProgress(p.fraction(), p.finishedSteps(), p.totalSteps(), p.inFlight(), p.bytesDone(), p.bytesTotal(), elapsed);
    }

    /** Recomputes the published progress from running totals and the steps in flight. Caller holds the lock. */
    private void publish() {
        double w = terminalWeight;
        long bytes = terminalBytes;
        for (int i : runningSteps) {
            w += weights[i] * fractions[i];
            bytes += Math.round(plan.steps().get(i).bytes() * fractions[i]);
        }
        published = new RunProgress(totalWeight == 0 ? 1 : w / totalWeight, terminalCount, states.length, inFlight,
                bytes, plan.summary().bytesToMove(), 0);
    }

    // ---- coordination -------------------------------------------------------------------------

    /** Called with the lock held. */
    private void wake() {
        waiting = false;
        changed.signalAll();
    }

    private void coordinate() {
        lock.lock();
        try {
            while (true) {
                if (cancelRequested) {
                    for (Step h : held) {
                        transition(h.index(), StepState.CANCELLED, "cancelled before it started");
                        scheduler.finished(h);
                        inFlight--;
                    }
                    held.clear();
                    for (int i : scheduler.notStarted()) {
                        transition(i, StepState.CANCELLED, "cancelled before it started");
                        scheduler.skip(i);
                    }
                } else if (!pauseRequested && inFlight == 0 && phaseToCheck() >= 0 && !driftAllows(phaseToCheck())) {
                    continue; // paused by the drift check; the loop waits below
                } else if (!pauseRequested) {
                    List<Step> next = scheduler.next();
                    for (Step s : next) {
                        if (answeredByPreCheck(s)) {
                            continue;
                        }
                        inFlight++;
                        if (StepScheduler.takesSlots(s) && !movesMayStart()) {
                            held.add(s); // its slots are taken; it starts once what moves wait for is in
                            continue;
                        }
                        dispatch(s);
                    }
                    if (!next.isEmpty()) {
                        continue; // a dispatcher may run work inline: look again before waiting
                    }
                    if (!held.isEmpty() && movesMayStart()) {
                        List<Step> go = new ArrayList<>(held);
                        held.clear();
                        go.forEach(this::dispatch);
                        continue;
                    }
                }
                if (inFlight == 0) {
                    if (scheduler.allStarted() || failed || cancelRequested) {
                        break;
                    }
                    if (!pauseRequested) {
                        throw new IllegalStateException("scheduler stalled with steps " + scheduler.notStarted() + " not started");
                    }
                }
                waiting = true;
                changed.awaitUninterruptibly();
                waiting = false;
            }
            for (int i : scheduler.notStarted()) {
                transition(i, StepState.SKIPPED, "not run: an earlier step failed");
            }
            RunState end = cancelRequested ? RunState.CANCELLED : failed ? RunState.FAILED : RunState.SUCCEEDED;
            setRunState(end);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "run coordinator failed", e);
            failed = true;
            setRunState(RunState.FAILED);
        } finally {
            lock.unlock();
        }
        RunResult result = snapshotResult();
        listener.log(result.state() == RunState.SUCCEEDED ? ExecutionListener.Level.INFO : ExecutionListener.Level.WARN,
                "Run " + result.state().name().toLowerCase() + ": " + result.count(StepState.SUCCEEDED) + " of "
                        + plan.steps().size() + " steps succeeded"
                        + (result.count(StepState.FAILED) > 0 ? ", " + result.count(StepState.FAILED) + " failed" : "")
                        + (result.count(StepState.CANCELLED) > 0 ? ", " + result.count(StepState.CANCELLED) + " cancelled" : "")
                        + (result.count(StepState.SKIPPED) > 0 ? ", " + result.count(StepState.SKIPPED) + " not run" : "")
                        + "; " + result.timeline().describe());
        coordinator.shutdown();
        monitor.shutdownNow();
        if (ownPool != null) {
            ownPool.shutdown();
        }
        done.complete(result);
    }

    private void work(Step step) {
        StepAttempts.Outcome o = new StepAttempts(step, connector, options, listener, new StepAttempts.Host() {
            @Override
            public void progress(double fraction, String message) {
                PlanExecution.this.progress(step, fraction, message);
            }

            @Override
            public boolean alreadyDone() {
                return PlanExecution.this.alreadyDone(step);
            }

            @Override
            public boolean cancelRequested() {
                return isCancelRequested();
            }

            @Override
            public void state(StepState to, String message) {
                setState(step.index(), to, message);
            }

            @Override
            public boolean cancelledWithin(Duration wait) throws InterruptedException {
                return cancelSignal.await(wait.toMillis(), TimeUnit.MILLISECONDS);
            }
        }).run();
        StepState end = o.end();
        String message = o.message();
        ConnectorException.Kind kind = o.failure();
        lock.lock();
        try {
            transition(step.index(), end, message);
            if (end == StepState.FAILED) {
                failures[step.index()] = kind;
                failed = true;
                scheduler.holdBarriers();
                // Logged before the coordinator can wake: the run's result never precedes the reason it failed.
                listener.log(ExecutionListener.Level.ERROR, "Step " + (step.index() + 1) + " failed: " + message
                        + (step.type() == StepType.MOVE_REPLICA ? "; the replica stays on " + step.from() : ""));
            }
            fractions[step.index()] = 1;
            if (step.type() == StepType.MOVE_REPLICA && end == StepState.SUCCEEDED) {
                lastMoveEndAt = sinceLaunch();
                double took = (options.clock().millis() - startedAtMillis[step.index()]) / 1000.0;
                listener.moveTimed(step, took, startedAtLevel[step.index()]);
                if (adaptive != null) {
                    adaptive.moveEnded(startedInEpoch[step.index()], took, weights[step.index()]).ifPresent(this::applyConcurrency);
                }
            }
            scheduler.finished(step);
            inFlight--;
            publish();
            wake();
        } finally {
            lock.unlock();
        }
    }

    /** Starts a step the scheduler handed out; inFlight already counts it. Caller holds the lock. */
    private void dispatch(Step s) {
        noteStart(s);
        startedAtMillis[s.index()] = options.clock().millis();
        startedInEpoch[s.index()] = adaptive == null ? 0 : adaptive.epoch();
        startedAtLevel[s.index()] = concurrency;
        transition(s.index(), StepState.RUNNING, "");
        publish();
        dispatcher.dispatch(s, () -> work(s));
    }

    /** Puts a change of the adaptive bound into effect, and tells the journal and the run page. Caller holds the lock. */
    private void applyConcurrency(AdaptiveConcurrency.Change c) {
        scheduler.setMaxPerServer(c.to());
        concurrency = c.to();
        listener.log(ExecutionListener.Level.INFO, "Moves per server " + c.from() + " → " + c.to() + ": " + c.reason());
        listener.concurrencyChanged(c.from(), c.to(), c.reason());
        wake();
    }

    /** The bound on moves per server now (it changes in the adaptive mode). Never waits. */
    public int concurrency() {
        return concurrency;
    }

    /** Whether this run's bound on moves per server follows the cluster. */
    public boolean adaptive() {
        return adaptive != null;
    }

    /** Whether what replica moves wait for ({@link Prelude#movesAfter}: the rows counted before the run) is in. */
    private boolean movesMayStart() {
        Prelude p = options.prelude();
        return p == null || p.movesAfter() == null || p.movesAfter().isDone();
    }

    private double sinceLaunch() {
        return Duration.between(launchedAt, Instant.now()).toNanos() / 1e9;
    }

    /** Notes the first step's and the first move's start on the timeline. Caller holds the lock. */
    private void noteStart(Step s) {
        if (!anyStepStarted) {
            anyStepStarted = true;
            firstStepAt = sinceLaunch();
            listener.log(ExecutionListener.Level.INFO, String.format(Locale.ROOT, "First step %.1f s after launch", firstStepAt));
        }
        if (s.type() == StepType.MOVE_REPLICA && Double.isNaN(firstMoveAt)) {
            firstMoveAt = sinceLaunch();
        }
    }

    /**
     * The run's first step, a health gate, with a healthy verdict from the pre-check of seconds before
     * ({@link Prelude#FRESH}): it ends SUCCEEDED at once, saying whose verdict it is, and nothing is asked
     * of the cluster again. Caller holds the lock.
     */
    private boolean answeredByPreCheck(Step s) {
        Prelude p = options.prelude();
        Instant now = Instant.now();
        if (s.type() != StepType.HEALTH_GATE || anyStepStarted || p == null || p.health() == null || !p.health().isHealthy()
                || !p.fresh(now)) {
            return false;
        }
        noteStart(s);
        transition(s.index(), StepState.SUCCEEDED, String.format(Locale.ROOT,
                "answered by the pre-check's verdict of %.1f s before (%s); not asked again", p.readAgeSeconds(now), p.health().summary()));
        fractions[s.index()] = 1;
        scheduler.finished(s);
        return true;
    }

    /** The phase about to begin whose drift check has not run yet, or -1. Caller holds the lock. */
    private int phaseToCheck() {
        int first = scheduler.firstNotStarted();
        if (first >= plan.steps().size()) {
            return -1;
        }
        int phase = plan.steps().get(first).phase();
        return phase > drift.checkedPhase() ? phase : -1;
    }

    /**
     * Before each phase: {@link DriftGuard}'s look at the live cluster, made without the lock (it reads the
     * cluster); a change that matters pauses the run. Caller holds the lock.
     */
    private boolean driftAllows(int phase) {
        Prelude p = options.prelude();
        if (drift.checkedPhase() < 0 && !anyStepStarted && p != null && p.fresh(Instant.now())) {
            drift.skip(phase); // the plan's snapshot is seconds old: nothing to compare it with yet
            listener.log(ExecutionListener.Level.INFO, String.format(Locale.ROOT,
                    "Phase %d: the cluster was read %.1f s before for the plan; not read again", phase + 1, p.readAgeSeconds(Instant.now())));
            return true;
        }
        List<Integer> done = new ArrayList<>();
        for (int i = 0; i < states.length; i++) {
            if (states[i] == StepState.SUCCEEDED) {
                done.add(i);
            }
        }
        boolean goOn;
        lock.unlock();
        try {
            goOn = drift.allows(phase, done);
        } finally {
            lock.lock();
        }
        if (!goOn && state == RunState.RUNNING) {
            pauseRequested = true;
            setRunState(RunState.PAUSED);
        }
        return goOn;
    }

    /**
     * The run's monitor: flags steps whose progress has not moved for {@code stallAfter}, and while a phase
     * runs, looks for partitions without a live leader or a live majority; found at two looks in a row
     * (a leader election takes a moment), the run pauses and says which and why.
     */
    private void watch() {
        try {
            watchOnce();
        } finally {
            looks.incrementAndGet();
        }
    }

    /** How many times the monitor has looked (stalls and health); for observers that wait on it. */
    public long monitorLooks() {
        return looks.get();
    }

    private final AtomicLong looks = new AtomicLong();

    /** A live server silent this long counts as degraded health for the adaptive mode. */
    static final long SILENT_MILLIS = 10_000;

    private void watchOnce() {
        try {
            long now = options.clock().millis();
            lock.lock();
            boolean lookAtHealth;
            try {
                if (state.isTerminal()) {
                    return;
                }
                for (int i = 0; i < states.length; i++) {
                    if (states[i] == StepState.RUNNING && !stallFlagged[i] && now - lastProgressAt[i] >= options.stallAfter().toMillis()) {
                        stallFlagged[i] = true;
                        Step s = plan.steps().get(i);
                        listener.log(ExecutionListener.Level.WARN, "Step " + (i + 1) + " has not progressed for "
                                + Units.duration((now - lastProgressAt[i]) / 1000.0) + ": " + s.describe()
                                + (s.partition() != null ? " (partition " + s.partition() + ", " + s.from() + " → " + s.to() + ")" : "")
                                + "; last engine message: " + (lastEngineMessage[i].isEmpty() ? "none" : lastEngineMessage[i]));
                    }
                }
                lookAtHealth = state == RunState.RUNNING && now >= nextHealthAt && !scheduler.barrierInFlight();
                if (lookAtHealth) {
                    nextHealthAt = now + options.healthEvery().toMillis();
                }
            } finally {
                lock.unlock();
            }
            if (lookAtHealth) {
                lookAtHealth();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "run monitor", e);
        }
    }

    private void lookAtHealth() {
        ClusterSnapshot c;
        try {
            c = connector.snapshot();
        } catch (ConnectorException e) {
            LOG.log(Level.INFO, "health look failed", e);
            return;
        }
        Map<PartitionId, String> lost = AvailabilityCheck.lost(c);
        if (adaptive != null) {
            List<String> why = new ArrayList<>();
            if (!lost.isEmpty()) {
                why.add(lost.size() + " partition(s) without a live leader or majority");
            }
            for (var server : c.servers()) {
                if (server.state().isUp() && server.heartbeatAgeMillis() != null && server.heartbeatAgeMillis() >= SILENT_MILLIS && !plan.removedServers().contains(server.id())) {
                    why.add(server.id() + " has not heartbeated for " + Units.duration(server.heartbeatAgeMillis() / 1000.0));
                }
            }
            if (!why.isEmpty()) {
                lock.lock();
                try {
                    if (!state.isTerminal()) {
                        adaptive.healthDegraded(String.join("; ", why)).ifPresent(this::applyConcurrency);
                    }
                } finally {
                    lock.unlock();
                }
            }
        }
        Set<PartitionId> confirmed = new LinkedHashSet<>(lost.keySet());
        confirmed.retainAll(suspect);
        suspect = Set.copyOf(lost.keySet());
        if (!confirmed.isEmpty()) {
            List<String> named = confirmed.stream().map(lost::get).toList();
            listener.log(ExecutionListener.Level.WARN, "Paused: the cluster lost availability in a way the plan cannot route around: "
                    + String.join("; ", named.subList(0, Math.min(5, named.size()))) + (named.size() > 5 ? "; …" : "")
                    + ". Steps in flight finish; resume once the cluster has recovered.");
            pause();
        }
    }

    private boolean alreadyDone(Step step) {
        if (step.type() == StepType.HEALTH_GATE) {
            return false;
        }
        try {
            return StepTruth.isDone(step, connector.snapshot());
        } catch (ConnectorException e) {
            return false;
        }
    }

    private boolean isCancelRequested() {
        lock.lock();
        try {
            return cancelRequested;
        } finally {
            lock.unlock();
        }
    }

    private void progress(Step step, double fraction, String message) {
        lock.lock();
        try {
            int i = step.index();
            double f = Math.max(0, Math.min(1, fraction));
            String m = message == null ? "" : message;
            if (f != fractions[i] || !m.equals(lastEngineMessage[i])) {
                lastProgressAt[i] = options.clock().millis();
                if (stallFlagged[i]) {
                    stallFlagged[i] = false;
                    listener.log(ExecutionListener.Level.INFO, "Step " + (i + 1) + " moves again: " + m);
                }
            }
            fractions[i] = f;
            lastEngineMessage[i] = m;
            publish();
        } finally {
            lock.unlock();
        }
        listener.stepProgress(step, fraction, message);
    }

    private void setState(int i, StepState to, String message) {
        lock.lock();
        try {
            transition(i, to, message);
        } finally {
            lock.unlock();
        }
    }

    /** Caller holds the lock. */
    private void transition(int i, StepState to, String message) {
        StepState from = states[i];
        if (to == StepState.RUNNING) {
            lastProgressAt[i] = options.clock().millis();
            stallFlagged[i] = false;
        }
        states[i] = from.to(to);
        messages[i] = message;
        if (to == StepState.RUNNING) {
            runningSteps.add(i);
        } else {
            runningSteps.remove(i);
        }
        if (to.isTerminal() && !from.isTerminal()) {
            terminalWeight += weights[i];
            terminalCount++;
            if (to == StepState.SUCCEEDED) {
                terminalBytes += plan.steps().get(i).bytes();
            }
        }
        publish();
        listener.stepStateChanged(plan.steps().get(i), from, to, message);
    }

    private void setRunState(RunState to) {
        RunState from = state;
        state = to;
        if (from != to) {
            listener.runStateChanged(from, to);
        }
    }

    private RunResult snapshotResult() {
        lock.lock();
        try {
            List<RunResult.StepOutcome> out = new ArrayList<>();
            for (int i = 0; i < states.length; i++) {
                out.add(new RunResult.StepOutcome(plan.steps().get(i), states[i], messages[i], failures[i]));
            }
            return new RunResult(state, out, (System.nanoTime() - startNanos) / 1e9,
                    new RunResult.Timeline(firstStepAt, firstMoveAt, lastMoveEndAt, sinceLaunch()));
        } finally {
            lock.unlock();
        }
    }
}
