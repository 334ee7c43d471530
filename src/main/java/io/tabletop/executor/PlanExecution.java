package io.tabletop.executor;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
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
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
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
    /** The run's listener for its own bookkeeping: a callback that throws is logged and goes no further. */
    private final ExecutionListener listener;
    /**
     * The same listener unguarded, for the events of a step (its state changes, its progress, its log lines
     * and actions): a callback that throws there ends that step FAILED.
     */
    private final ExecutionListener stepListener;
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
    /**
     * Steps handed to the dispatcher whose worker has not yet given them back (ended, or parked): each leaves
     * exactly once, and gives back its slots and its place in {@link #inFlight} as it does. Guarded by the lock.
     */
    private final Set<Integer> working = new LinkedHashSet<>();
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
    // ---- servers that stop answering, and steps that wait for the engine (guarded by the lock) ----
    /** Servers dead for the whole run, with the run clock's millis since when they have been silent. */
    private final Map<ServerId, Long> deadSince = new LinkedHashMap<>();
    /** Steps parked in WAITING: why, and the run clock's millis when they should be free (-1: not known). */
    private final Map<Integer, Wait> waits = new LinkedHashMap<>();
    /** Steps whose wait is over, to run again once their servers have a free slot. */
    private final List<Step> unparked = new ArrayList<>();
    /** Non-null: this attempt ends for a re-plan, and why. */
    private String replanWhy;
    /** The cluster at the monitor's last look (the plan's own snapshot before the first). */
    private volatile ClusterSnapshot lastLook;
    private long nextLivenessAt;
    private long nextWaitLookAt;
    /** The run paused itself (a partition without a live majority) and resumes by itself once it can. */
    private boolean autoPaused;
    private ClusterConnector.Replacement replacement;
    private boolean replacementRead;

    /** Why a step waits, and until when on the run's clock (-1: not known). */
    record Wait(String reason, long until) {
    }

    /** Non-null: the run's books are beyond repair (a step could not even be ended), and why; the coordinator ends the run. */
    private String broken;
    /** Non-null: no step may start any more, and why (a record could not be written: {@link ExecutionListener#beforeStart}). */
    private String halted;
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
        this.stepListener = listener == null ? ExecutionListener.NONE : listener;
        this.listener = new GuardedListener(this.stepListener);
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
        this.lastLook = plan.before();
        // servers the plan already found silent (a re-plan around a dead server): dead for this run too
        long now = options.clock().millis();
        for (Server s : plan.before().servers()) {
            long age = s.heartbeatAgeMillis() == null ? (s.state().isUp() ? 0 : options.deadAfter().toMillis()) : s.heartbeatAgeMillis();
            if ((!s.state().isUp() || age >= options.deadAfter().toMillis()) && !plan.removedServers().contains(s.id())) {
                deadSince.put(s.id(), now - age);
            }
        }
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
                autoPaused = false;
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
        return new RunProgress(p.fraction(), p.finishedSteps(), p.totalSteps(), p.inFlight(), p.bytesDone(), p.bytesTotal(), elapsed,
                p.waiting(), p.waitSeconds());
    }

    /** Recomputes the published progress from running totals and the steps in flight. Caller holds the lock. */
    private void publish() {
        double w = terminalWeight;
        long bytes = terminalBytes;
        for (int i : runningSteps) {
            w += weights[i] * fractions[i];
            bytes += Math.round(plan.steps().get(i).bytes() * fractions[i]);
        }
        long now = options.clock().millis();
        double waitLeft = 0;
        for (Map.Entry<Integer, Wait> e : waits.entrySet()) {
            if (e.getValue().until() > now) {
                waitLeft = Math.max(waitLeft, (e.getValue().until() - now) / 1000.0 + weights[e.getKey()]);
            }
        }
        published = new RunProgress(totalWeight == 0 ? 1 : w / totalWeight, terminalCount, states.length, inFlight,
                bytes, plan.summary().bytesToMove(), 0, waits.size(), waitLeft);
    }

    // ---- coordination -------------------------------------------------------------------------

    /** Called with the lock held. */
    private void wake() {
        waiting = false;
        changed.signalAll();
    }

    /**
     * The coordinator: schedules until the run is over, then ends it. Whatever it throws ends the run FAILED
     * with the reason (see {@link #stopAfterFault}); {@link #result()} completes however it ends.
     */
    private void coordinate() {
        RunResult result = null;
        Throwable lost = null;
        try {
            lock.lock();
            try {
                try {
                    schedule();
                } catch (Throwable t) {
                    LOG.log(Level.SEVERE, "run coordinator failed", t);
                    stopAfterFault("the run's coordinator failed: " + Failures.oneLine(t));
                }
                for (int i : scheduler.notStarted()) {
                    if (states[i] == StepState.PENDING) {
                        transition(i, StepState.SKIPPED, "not run: an earlier step failed");
                    }
                }
                RunState end = cancelRequested ? RunState.CANCELLED : failed ? RunState.FAILED
                        : replanWhy != null ? RunState.REPLANNING : RunState.SUCCEEDED;
                setRunState(end);
            } catch (Throwable t) {
                LOG.log(Level.SEVERE, "run coordinator failed while ending the run", t);
                failed = true;
                setRunState(RunState.FAILED);
            } finally {
                lock.unlock();
            }
            result = snapshotResult();
            listener.log(result.state() == RunState.SUCCEEDED ? ExecutionListener.Level.INFO : ExecutionListener.Level.WARN,
                    "Run " + result.state().name().toLowerCase() + ": " + result.count(StepState.SUCCEEDED) + " of "
                            + plan.steps().size() + " steps succeeded"
                            + (result.count(StepState.FAILED) > 0 ? ", " + result.count(StepState.FAILED) + " failed" : "")
                            + (result.count(StepState.CANCELLED) > 0 ? ", " + result.count(StepState.CANCELLED) + " cancelled" : "")
                            + (result.count(StepState.SKIPPED) > 0 ? ", " + result.count(StepState.SKIPPED) + " not run" : "")
                            + "; " + result.timeline().describe());
        } catch (Throwable t) {
            LOG.log(Level.SEVERE, "run coordinator failed while ending the run", t);
            lost = t;
        } finally {
            coordinator.shutdown();
            monitor.shutdownNow();
            if (ownPool != null) {
                ownPool.shutdown();
            }
            if (result != null) {
                done.complete(result);
            } else {
                done.completeExceptionally(lost != null ? lost : new IllegalStateException("the run ended without a result"));
            }
        }
    }

    /** Schedules steps until the run is over. Caller holds the lock. */
    private void schedule() {
        while (true) {
            if (broken != null) {
                throw new IllegalStateException(broken);
            }
            if (cancelRequested) {
                endUnstarted(StepState.CANCELLED, "cancelled before it started", "cancelled while it waited");
            } else if (halted != null) {
                // nothing starts without its record: what has not started is not run; the steps in flight finish
                endUnstarted(StepState.SKIPPED, "not run: " + halted, "not run: " + halted);
            } else if (replanWhy != null && !pauseRequested) {
                // what has not run goes to the next plan; the steps in flight finish first
                endUnstarted(StepState.REPLANNED, "not run: " + replanWhy, "not run: " + replanWhy);
            } else if (!pauseRequested && inFlight == 0 && phaseToCheck() >= 0 && !driftAllows(phaseToCheck())) {
                continue; // paused by the drift check; the loop waits below
            } else if (!pauseRequested) {
                boolean restarted = false;
                for (Iterator<Step> it = unparked.iterator(); it.hasNext(); ) {
                    Step u = it.next();
                    if (scheduler.retakeSlots(u)) {
                        it.remove();
                        dispatch(u);
                        restarted = true;
                    }
                }
                List<Step> next = scheduler.next();
                for (Step s : next) {
                    if (answeredByPreCheck(s)) {
                        continue;
                    }
                    inFlight++;
                    String answer = firstGateAnswer(s, lastLook);
                    if (answer != null) {
                        answerGate(s, answer);
                        continue;
                    }
                    Wait w = waitFor(s, lastLook);
                    if (w != null) {
                        park(s, w);
                        continue;
                    }
                    if (StepScheduler.takesSlots(s) && !movesMayStart()) {
                        held.add(s); // its slots are taken; it starts once what moves wait for is in
                        continue;
                    }
                    dispatch(s);
                }
                if (!next.isEmpty() || restarted) {
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
                if (scheduler.allStarted() || failed || cancelRequested || replanWhy != null || halted != null) {
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
    }

    /**
     * The coordinator failed ({@code why}): nothing new starts, the steps in flight end by their own rules, and
     * what did not start ends SKIPPED with the reason; the run ends FAILED. When the run's books are beyond
     * repair ({@link #broken}), the steps still counted as running end FAILED at once instead. Caller holds the lock.
     */
    private void stopAfterFault(String why) {
        failed = true;
        try {
            scheduler.holdBarriers();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "holding barriers after a fault", e);
        }
        listener.log(ExecutionListener.Level.ERROR, "The run stops: " + why + ". Steps in flight finish; nothing new starts. "
                + "Resume the run once the cause is fixed (it plans what is left from the live cluster)");
        held.clear();
        while (!working.isEmpty() && broken == null) {
            waiting = true;
            changed.awaitUninterruptibly();
            waiting = false;
        }
        waits.clear();
        unparked.clear();
        for (int i = 0; i < states.length; i++) {
            StepState st = states[i];
            try {
                if (st == StepState.PENDING || st == StepState.WAITING) {
                    transition(i, StepState.SKIPPED, "not run: " + why);
                } else if (st == StepState.RUNNING || st == StepState.RETRY_WAIT) {
                    transition(i, StepState.FAILED, "abandoned: " + why);
                }
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "cannot end step " + (i + 1) + " after a fault", e);
            }
        }
        working.clear();
    }

    /**
     * A step's worker: its attempts, then its end in the run's books. Never throws: whatever is thrown on
     * the way ends the step FAILED with one line naming the cause (see {@link #abandon}).
     */
    private void work(Step step) {
        try {
            finish(step, attempts(step));
        } catch (Throwable t) {
            LOG.log(Level.SEVERE, "step " + (step.index() + 1) + " ended unexpectedly", t);
            abandon(step, t, "");
        }
    }

    private StepAttempts.Outcome attempts(Step step) {
        return new StepAttempts(step, connector, options, stepListener, new StepAttempts.Host() {
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
    }

    /** Ends a step as its attempts came out, or parks it. Reads the cluster first, without the lock. */
    private void finish(Step step, StepAttempts.Outcome o) {
        StepState end = o.end();
        String message = o.message();
        ConnectorException.Kind kind = o.failure();
        String replan = null;
        ServerId lost = null;
        long lostAge = options.deadAfter().toMillis();
        // a failure in the connector's words is read against the cluster; any other throwable stays FAILED,
        // since nothing is known of what the engine did
        boolean failedInWords = end == StepState.FAILED && !o.unexpected();
        if (failedInWords && kind == ConnectorException.Kind.SERVER_LOST && step.to() != null) {
            // the destination died: not the operator's to fix; the rest is planned again without it
            lost = step.to();
            try {
                Long age = connector.heartbeatAges().get(lost);
                lostAge = age == null || age == Long.MAX_VALUE ? lostAge : age;
            } catch (ConnectorException e) {
                LOG.log(Level.FINE, "heartbeat ages", e);
            }
            replan = step.to() + " stopped answering during step " + (step.index() + 1);
            end = StepState.REPLANNED;
            message = "abandoned: " + message + "; what is left is planned again without " + step.to();
        } else if (failedInWords && step.to() != null && isDeadForRun(step.to())) {
            // it went to a server found dead meanwhile: planned again around it, as every step that would go there
            end = StepState.REPLANNED;
            replan = step.to() + " stopped answering";
            message = "not done: " + step.to() + " stopped answering (" + message + "); what is left is planned again without it";
        } else if (failedInWords && (step.type() == StepType.MOVE_REPLICA || kind == ConnectorException.Kind.DRIFT)) {
            Drifted d = drifted(step, kind, message);
            if (d != null) {
                end = d.end();
                message = d.message();
                replan = d.replan();
            }
        }
        lock.lock();
        try {
            if (end == StepState.WAITING) {
                // the engine refused it for now: it waits without its slots, and is looked at again soon
                Wait w = waitFor(step, lastLook);
                working.remove(step.index());
                park(step, w != null ? w : new Wait(connector.engine().wireName() + " refused it for now: " + message, -1));
                nextWaitLookAt = options.clock().millis() + WAIT_LOOK_MILLIS;
                publish();
                wake();
                return;
            }
            if (lost != null) {
                markDead(lost, options.clock().millis() - lostAge, "a step to it was abandoned");
            }
            if (replan != null) {
                requestReplan(replan);
            }
            // an illegal end throws here and changes nothing: the worker's catch ends the step FAILED
            Throwable unrecorded = transition(step.index(), end, message);
            try {
                if (end == StepState.FAILED) {
                    failures[step.index()] = kind;
                    failStep(step, message);
                }
                if (unrecorded != null) {
                    listener.log(ExecutionListener.Level.ERROR, "Step " + (step.index() + 1) + " ended " + end
                            + ", but the run's listener failed to record it: " + Failures.oneLine(unrecorded));
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
            } finally {
                giveBack(step);
                publish();
                wake();
            }
        } finally {
            lock.unlock();
        }
    }

    /** A step has failed for good: no barrier runs after it, and the run will end FAILED. Caller holds the lock. */
    private void failStep(Step step, String message) {
        failed = true;
        scheduler.holdBarriers();
        // Logged before the coordinator can wake: the run's result never precedes the reason it failed.
        listener.log(ExecutionListener.Level.ERROR, "Step " + (step.index() + 1) + " failed: " + message
                + (step.type() == StepType.MOVE_REPLICA ? "; the replica stays on " + step.from() : "")
                + ". Fix the cause, then resume the run (it plans what is left from the live cluster), or restore it");
    }

    /** A worker's step leaves the run's hands: its slots and its place in flight are given back, once. Caller holds the lock. */
    private void giveBack(Step step) {
        if (working.remove(step.index())) {
            scheduler.finished(step);
            inFlight--;
        }
    }

    /**
     * Ends a step that something unexpected stopped (a throwable from the connector, a callback, the run's own
     * bookkeeping, an illegal transition): FAILED with one line naming the cause when it was running, SKIPPED
     * when it never started; its slots go back, and the run goes on or ends by its rules as after any failed
     * step. A step already ended or parked keeps its state. If even this fails, the coordinator ends the run.
     */
    private void abandon(Step step, Throwable cause, String prefix) {
        int i = step.index();
        String why = prefix + Failures.unexpected(cause);
        lock.lock();
        try {
            StepState st = states[i];
            try {
                if (st == StepState.RUNNING || st == StepState.RETRY_WAIT) {
                    transition(i, StepState.FAILED, why);
                    failStep(step, why);
                } else if ((st == StepState.PENDING || st == StepState.WAITING) && working.contains(i)) {
                    transition(i, StepState.SKIPPED, why);
                    failStep(step, why);
                }
                fractions[i] = 1;
            } finally {
                giveBack(step);
                publish();
                wake();
            }
        } catch (Throwable t) {
            LOG.log(Level.SEVERE, "cannot end step " + (i + 1) + " after " + why, t);
            broken = "step " + (i + 1) + " could not be ended after " + why + " (" + Failures.oneLine(t) + ")";
            failed = true;
            wake();
        } finally {
            lock.unlock();
        }
    }

    /** What a failed step's failure turns out to be, once the live cluster has been read. */
    private record Drifted(StepState end, String message, String replan) {
    }

    /**
     * A failed move, against the live cluster: the engine already took the replica off its source and the
     * partition kept its copies elsewhere, or the destination already holds a copy the engine put there, or
     * the engine said the cluster changed (the rest is planned again: REPLANNED); a source without the replica
     * and a partition with fewer copies than before stays FAILED, saying so; null when it failed for a reason
     * the operator must see. The step ran, so SKIPPED ("nothing left to do", for a step that never started)
     * is not an end it can have: the table forbids RUNNING → SKIPPED. Reads the cluster: called without the lock.
     */
    private Drifted drifted(Step step, ConnectorException.Kind kind, String message) {
        // the engine's own word that the cluster changed, when the cluster shows nothing more precise
        Drifted engineSaid = kind == ConnectorException.Kind.DRIFT
                ? new Drifted(StepState.REPLANNED, "the cluster changed under it (" + message + "); planned again",
                "the cluster changed under step " + (step.index() + 1) + ": " + message) : null;
        ClusterSnapshot live;
        try {
            live = connector.snapshot();
        } catch (ConnectorException e) {
            return engineSaid;
        }
        lastLook = live;
        if (step.type() == StepType.MOVE_REPLICA) {
            Partition p = live.partition(step.partition()).orElse(null);
            if (p != null && !p.isOn(step.from())) {
                String on = p.replicas().stream().map(r -> r.server().value()).collect(java.util.stream.Collectors.joining(", "));
                int had = plan.before().partition(step.partition()).map(Partition::voterCount).orElse(0);
                if (p.voterCount() < had) {
                    return new Drifted(StepState.FAILED, message + "; " + step.from() + " no longer holds " + step.partition()
                            + ", which has " + p.voterCount() + " of its " + had + " voters (on " + on + ")", null);
                }
                return new Drifted(StepState.REPLANNED, "not done: " + step.from() + " no longer holds " + step.partition()
                        + " (the engine moved it; it is on " + on + ") after: " + message + "; what is left is planned again",
                        step.partition() + " left " + step.from() + " while step " + (step.index() + 1) + " ran (it is on " + on + ")");
            }
            if (p != null && p.isOn(step.to())) {
                return new Drifted(StepState.REPLANNED, step.to() + " already holds a copy of " + step.partition()
                        + " that the engine put there; planned again",
                        step.partition() + " already has a copy on " + step.to() + ", put there by the engine while the run went on");
            }
        }
        return engineSaid;
    }

    /** How often (run clock) the monitor reads the cluster while steps wait for the engine. */
    static final long WAIT_LOOK_MILLIS = 5_000;

    /** How often (run clock) the monitor asks for the servers' heartbeat ages. */
    private long livenessMillis() {
        return Math.max(100, Math.min(2_000, options.deadAfter().toMillis() / 5));
    }

    /**
     * The first step of a plan made around a dead server, a health gate: the engine's own check fails until
     * the dead server's copies are replaced, which the run waits for wherever a step needs it; so the gate is
     * answered by the run's own look when every partition has a live leader and a live majority (the dead
     * server counted as down). Null when that does not hold, or the gate is not such a one. Caller holds the lock.
     */
    private String firstGateAnswer(Step s, ClusterSnapshot c) {
        if (s.type() != StepType.HEALTH_GATE || s.index() != 0 || deadSince.isEmpty() || c == null
                || !connector.capabilities().engineRereplicates()) {
            return null;
        }
        Map<PartitionId, String> lost = AvailabilityCheck.lost(c, id -> deadSince.containsKey(id) && silent(c, id));
        if (!lost.isEmpty()) {
            return null;
        }
        long copies = c.partitions().stream().filter(p -> p.replicas().stream().anyMatch(r -> deadSince.containsKey(r.server()) && silent(c, r.server()))).count();
        return "every partition has a live leader and a live majority (the run's own look); " + copies + " tablet(s) keep a copy on dead "
                + deadSince.keySet().stream().map(ServerId::value).collect(java.util.stream.Collectors.joining(", "))
                + " until " + engineName() + " replaces it, and the steps that need it wait for that";
    }

    /** Ends a started gate SUCCEEDED with {@code why}, without asking the engine. Caller holds the lock. */
    private void answerGate(Step s, String why) {
        waits.remove(s.index());
        noteStart(s);
        transition(s.index(), StepState.SUCCEEDED, why);
        fractions[s.index()] = 1;
        scheduler.finished(s);
        inFlight--;
    }

    /** Parks a started step in WAITING: it gives its slots back and is looked at again by the monitor. Caller holds the lock. */
    private void park(Step s, Wait w) {
        scheduler.releaseSlots(s);
        waits.put(s.index(), w);
        transition(s.index(), StepState.WAITING, w.reason());
        listener.stepWaiting(s, w.reason(), w.until() < 0 ? null : Instant.ofEpochMilli(w.until()));
    }

    /** Ends with {@code to} every move held back until the rows are counted (its slots taken). Caller holds the lock. */
    private void endHeld(StepState to, String why) {
        for (Step h : held) {
            transition(h.index(), to, why);
            scheduler.finished(h);
            inFlight--;
        }
        held.clear();
    }

    /** Ends every parked and unparked step with {@code to}. Caller holds the lock. */
    /**
     * Ends every step that has not started with {@code to}: those held and not yet started with {@code why},
     * those parked waiting for the engine with {@code whyParked}. Caller holds the lock.
     */
    private void endUnstarted(StepState to, String why, String whyParked) {
        endHeld(to, why);
        for (int i : scheduler.notStarted()) {
            transition(i, to, why);
            scheduler.skip(i);
        }
        endParked(to, whyParked);
    }

    private void endParked(StepState to, String why) {
        for (Step u : unparked) {
            waits.remove(u.index());
        }
        List<Integer> ids = new ArrayList<>(waits.keySet());
        unparked.forEach(u -> ids.add(u.index()));
        waits.clear();
        unparked.clear();
        for (int i : ids) {
            transition(i, to, why);
            scheduler.finished(plan.steps().get(i));
            inFlight--;
        }
    }

    /** The run goes on with a new plan once the steps in flight have finished. Caller holds the lock. */
    private void requestReplan(String why) {
        if (replanWhy != null || cancelRequested) {
            return;
        }
        replanWhy = why;
        listener.log(ExecutionListener.Level.WARN, "Planning again: " + why + "; the steps in flight finish first, "
                + "and what is left is planned from the live cluster");
        wake();
    }

    /**
     * A server stopped answering: dead for the rest of the run. Steps not started that would go to it are
     * planned again around it, all at once. Caller holds the lock.
     */
    private void markDead(ServerId id, long since, String why) {
        if (deadSince.containsKey(id) || plan.removedServers().contains(id)) {
            return;
        }
        deadSince.put(id, since);
        String line = id + " stopped answering (" + why + "): no step of this run goes to it from now on";
        listener.log(ExecutionListener.Level.WARN, line);
        listener.serverLost(id, line);
        nextWaitLookAt = Long.MIN_VALUE; // look at the cluster at once: which steps now wait for the engine
        long affected = 0;
        for (Step s : plan.steps()) {
            StepState st = states[s.index()];
            if ((st == StepState.PENDING || st == StepState.WAITING || st == StepState.RETRY_WAIT) && (id.equals(s.to())
                    || (s.from() == null && s.type() != StepType.HEALTH_GATE && s.servers().contains(id)))) {
                affected++;
            }
        }
        if (affected > 0) {
            requestReplan(id + " stopped answering, and " + affected + " step(s) not run yet would go to it");
        }
        wake();
    }

    private boolean isDeadForRun(ServerId id) {
        lock.lock();
        try {
            return deadSince.containsKey(id);
        } finally {
            lock.unlock();
        }
    }

    /** The servers this run has found dead, with the run clock's millis since when. */
    public Map<ServerId, Long> deadServers() {
        lock.lock();
        try {
            return Map.copyOf(deadSince);
        } finally {
            lock.unlock();
        }
    }

    /** Whether the cluster of {@code c} says {@code id} is silent: declared dead, not heartbeating, or gone. */
    private boolean silent(ClusterSnapshot c, ServerId id) {
        return c.server(id).map(s -> s.silentFor(options.deadAfter().toMillis())).orElse(true);
    }

    /** The engine's own replacement delay for dead copies, read once per run (null: not known). Caller holds the lock. */
    private ClusterConnector.Replacement replacement() {
        if (!replacementRead) {
            replacementRead = true;
            try {
                replacement = connector.deadCopyReplacement().orElse(null);
            } catch (ConnectorException e) {
                LOG.log(Level.INFO, "cannot read the engine's replacement delay", e);
            }
        }
        return replacement;
    }

    private String engineName() {
        String w = connector.engine().wireName();
        return w.equals("kudu") ? "Kudu" : w.substring(0, 1).toUpperCase(Locale.ROOT) + w.substring(1);
    }

    /**
     * Why {@code s} must wait for the engine in cluster {@code c}, or null. Only for an engine that replaces
     * dead copies itself and refuses to move a replica of a tablet that is not healthy (Kudu): a move of a
     * partition with a copy on a dead server, or whose new copy is still being built; a health gate while
     * such partitions remain after a server died. Caller holds the lock.
     */
    private Wait waitFor(Step s, ClusterSnapshot c) {
        if (c == null || !connector.capabilities().engineRereplicates()) {
            return null;
        }
        if (s.type() == StepType.MOVE_REPLICA) {
            return c.partition(s.partition()).map(p -> partitionWait(p, c)).orElse(null);
        }
        if (s.type() == StepType.HEALTH_GATE && !deadSince.isEmpty()) {
            int n = 0;
            long until = -1;
            Wait first = null;
            for (Partition p : c.partitions()) {
                Wait w = partitionWait(p, c);
                if (w != null) {
                    n++;
                    until = Math.max(until, w.until());
                    first = first == null ? w : first;
                }
            }
            if (n == 0) {
                return null;
            }
            long now = options.clock().millis();
            return new Wait("waiting for " + engineName() + " to rebuild " + n + " tablet(s) that lost a copy with "
                    + deadSince.keySet().stream().map(ServerId::value).collect(java.util.stream.Collectors.joining(", "))
                    + (until > now ? ", in about " + Units.duration((until - now) / 1000.0) : "") + " (first: " + first.reason() + ")", until);
        }
        return null;
    }

    /** Why a move of partition {@code p} must wait for the engine, or null. Caller holds the lock. */
    private Wait partitionWait(Partition p, ClusterSnapshot c) {
        long now = options.clock().millis();
        for (Replica r : p.replicas()) {
            if (!plan.removedServers().contains(r.server()) && silent(c, r.server())) {
                ServerId d = r.server();
                long since = deadSince.getOrDefault(d, now - c.server(d).map(x -> x.heartbeatAgeMillis() == null ? 0L : x.heartbeatAgeMillis()).orElse(0L));
                ClusterConnector.Replacement rep = replacement();
                if (rep == null) {
                    return new Wait("tablet " + p.id() + " has a copy on dead " + d + "; waiting for " + engineName() + " to replace it", -1);
                }
                long until = since + rep.after().toMillis();
                return new Wait("tablet " + p.id() + " has a copy on dead " + d + "; " + engineName() + " replaces it after "
                        + rep.describe() + (until > now ? ", in about " + Units.duration((until - now) / 1000.0) : ", any moment now"), until);
            }
        }
        if (deadSince.isEmpty()) {
            return null; // no server died in this run: a partition's state is the run's own business
        }
        int rf = c.table(p.table()).map(t -> t.replicationFactor()).orElse(p.voterCount());
        for (Replica r : p.replicas()) {
            if (r.role() == ReplicaRole.LEARNER) {
                double secs = plan.capabilities().moveOverheadSeconds() + p.sizeOrZero() / plan.capabilities().bytesPerSecond();
                return new Wait(engineName() + " is building a new copy of " + p.id() + " on " + r.server(), now + Math.round(secs * 1000));
            }
        }
        if (p.voterCount() < rf) {
            return new Wait(p.id() + " has " + p.voterCount() + " of " + rf + " copies: waiting for " + engineName() + " to add one", -1);
        }
        if (p.voterCount() > rf) {
            return new Wait(p.id() + " has " + p.voterCount() + " voters, more than its replication factor " + rf
                    + ": waiting for " + engineName() + " to drop the copy it replaced", -1);
        }
        return null;
    }

    /**
     * The monitor's look at the steps that wait: still waiting (its reason and time brought up to date), or
     * free: a move whose source no longer holds the replica has nothing left to do; one whose destination
     * already holds a copy is planned again; any other goes back to the scheduler. Caller holds the lock.
     */
    private void reviewWaits(ClusterSnapshot c) {
        for (Integer i : new ArrayList<>(waits.keySet())) {
            Step s = plan.steps().get(i);
            if (unparked.contains(s)) {
                continue;
            }
            String answer = firstGateAnswer(s, c);
            if (answer != null) {
                answerGate(s, answer);
                continue;
            }
            Wait w = waitFor(s, c);
            Wait was = waits.get(i);
            if (w != null) {
                if (!w.reason().equals(was.reason()) || Math.abs(w.until() - was.until()) > 1000) {
                    waits.put(i, w);
                    messages[i] = w.reason();
                    listener.stepWaiting(s, w.reason(), w.until() < 0 ? null : Instant.ofEpochMilli(w.until()));
                }
                continue;
            }
            if (s.type() == StepType.MOVE_REPLICA) {
                Partition p = c.partition(s.partition()).orElse(null);
                if (p == null || !p.isOn(s.from())) {
                    waits.remove(i);
                    transition(i, StepState.SKIPPED, "nothing left to do: " + s.from() + " no longer holds " + s.partition() + " (the engine moved it)");
                    scheduler.finished(s);
                    inFlight--;
                    continue;
                }
                if (p.isOn(s.to())) {
                    requestReplan(s.partition() + " already has a copy on " + s.to() + ", put there by " + engineName() + " while step "
                            + (s.index() + 1) + " waited");
                    continue;
                }
            }
            listener.log(ExecutionListener.Level.INFO, "Step " + (i + 1) + " (" + s.describe() + ") no longer waits: " + was.reason());
            unparked.add(s);
        }
        wake();
    }

    /**
     * Stops the run from starting any step ({@code why}: a record that could not be written); logged once.
     * The schedule loop ends what has not started; the steps in flight finish. Caller holds the lock.
     */
    private void halt(String why) {
        if (halted != null) {
            return;
        }
        halted = why;
        failed = true;
        scheduler.holdBarriers();
        listener.log(ExecutionListener.Level.ERROR, "The run stops: " + why + ". No step starts without its record; steps in flight finish. "
                + "Fix the cause, then resume the run (it plans what is left from the live cluster)");
        wake();
    }

    /** Starts a step the scheduler handed out; inFlight already counts it. Caller holds the lock. */
    private void dispatch(Step s) {
        String veto = halted;
        if (veto == null) {
            try {
                veto = stepListener.beforeStart(s);
            } catch (Throwable t) {
                LOG.log(Level.SEVERE, "the run's listener failed before step " + (s.index() + 1) + " started", t);
                veto = "the run's listener failed before step " + (s.index() + 1) + " started: " + Failures.oneLine(t);
            }
        }
        if (veto != null) {
            // its start could not be recorded: it does not start, and neither does anything after it
            halt(veto);
            waits.remove(s.index());
            transition(s.index(), StepState.SKIPPED, "not run: " + halted);
            fractions[s.index()] = 1;
            scheduler.finished(s);
            inFlight--;
            publish();
            return;
        }
        waits.remove(s.index());
        noteStart(s);
        startedAtMillis[s.index()] = options.clock().millis();
        startedInEpoch[s.index()] = adaptive == null ? 0 : adaptive.epoch();
        startedAtLevel[s.index()] = concurrency;
        working.add(s.index());
        Throwable fault;
        try {
            fault = transition(s.index(), StepState.RUNNING, "");
        } catch (RuntimeException e) {
            fault = e;
        }
        if (fault != null) {
            // its start is not on record (the journal's listener failed on it): nothing acts without its record
            abandon(s, fault, "not started: ");
            return;
        }
        publish();
        try {
            dispatcher.dispatch(s, () -> work(s));
        } catch (Throwable t) {
            LOG.log(Level.SEVERE, "cannot dispatch step " + (s.index() + 1), t);
            abandon(s, t, "not started: ");
        }
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
            if (states[i] == StepState.SUCCEEDED || states[i] == StepState.SKIPPED) {
                done.add(i); // a move skipped because the engine had moved the replica already is done too
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
        } catch (Throwable t) {
            // a throwable out of a scheduled look would cancel every later one, and a run paused for
            // availability would never resume by itself
            LOG.log(Level.SEVERE, "run monitor", t);
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
            boolean liveness;
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
                liveness = now >= nextLivenessAt;
                if (liveness) {
                    nextLivenessAt = now + livenessMillis();
                }
            } finally {
                lock.unlock();
            }
            if (liveness) {
                lookAtLiveness(now);
            }
            boolean lookAtHealth;
            boolean lookAtWaits;
            lock.lock();
            try {
                lookAtHealth = (state == RunState.RUNNING || (state == RunState.PAUSED && autoPaused)) && now >= nextHealthAt
                        && (!scheduler.barrierInFlight() || !waits.isEmpty());
                if (lookAtHealth) {
                    nextHealthAt = now + options.healthEvery().toMillis();
                }
                lookAtWaits = (!waits.isEmpty() || autoPaused || (options.replaceDeadCopies() && !deadSince.isEmpty())) && now >= nextWaitLookAt;
                if (lookAtWaits) {
                    nextWaitLookAt = now + WAIT_LOOK_MILLIS;
                }
            } finally {
                lock.unlock();
            }
            if (lookAtHealth || lookAtWaits) {
                ClusterSnapshot c;
                try {
                    c = connector.snapshot();
                } catch (ConnectorException e) {
                    LOG.log(Level.INFO, "the run's look at the cluster failed", e);
                    return;
                }
                lastLook = c;
                int deadCopies = 0;
                if (lookAtWaits) {
                    lock.lock();
                    try {
                        if (!state.isTerminal()) {
                            reviewWaits(c);
                            publish();
                            if (options.replaceDeadCopies()) {
                                for (Partition p : c.partitions()) {
                                    deadCopies += (int) p.replicas().stream().filter(r -> deadSince.containsKey(r.server()) && silent(c, r.server())).count();
                                }
                            }
                        }
                    } finally {
                        lock.unlock();
                    }
                }
                if (deadCopies > 0) {
                    listener.deadCopiesLeft(deadCopies);
                }
                lookAtHealth(c);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "run monitor", e);
        }
    }

    /** The servers' heartbeat ages: one that has been silent for {@code deadAfter} is dead for the run. */
    private void lookAtLiveness(long now) {
        Map<ServerId, Long> ages;
        try {
            ages = connector.heartbeatAges();
        } catch (ConnectorException e) {
            LOG.log(Level.FINE, "heartbeat ages", e);
            return;
        }
        if (!replacementRead && ages.values().stream().anyMatch(a -> a >= options.deadAfter().toMillis())) {
            ClusterConnector.Replacement r = null;
            try {
                r = connector.deadCopyReplacement().orElse(null); // may ask the engine: not under the run's lock
            } catch (ConnectorException e) {
                LOG.log(Level.INFO, "cannot read the engine's replacement delay", e);
            }
            lock.lock();
            try {
                replacement = r;
                replacementRead = true;
            } finally {
                lock.unlock();
            }
        }
        lock.lock();
        try {
            if (state.isTerminal()) {
                return;
            }
            long dead = options.deadAfter().toMillis();
            now = options.clock().millis(); // the ages are as of the read, not as of the look's start
            for (Map.Entry<ServerId, Long> e : ages.entrySet()) {
                long age = e.getValue();
                if (age >= dead && !deadSince.containsKey(e.getKey())) {
                    markDead(e.getKey(), age == Long.MAX_VALUE ? now - dead : now - age,
                            age == Long.MAX_VALUE ? "the engine declared it dead" : "no heartbeat for " + Units.duration(age / 1000.0));
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * One look at availability: partitions without a live leader or majority (a server the run found dead
     * counts as down), found at two looks in a row, pause the run with the reason; a pause of the run's own
     * ends by itself at the first look that finds every partition available again.
     */
    private void lookAtHealth(ClusterSnapshot c) {
        Set<ServerId> dead;
        lock.lock();
        try {
            dead = Set.copyOf(deadSince.keySet());
        } finally {
            lock.unlock();
        }
        lock.lock();
        try {
            // a server the engine reports down is dead for the run too (an engine without heartbeat ages)
            long now = options.clock().millis();
            for (Server s : c.servers()) {
                if (!s.state().isUp() && !deadSince.containsKey(s.id()) && !plan.removedServers().contains(s.id()) && !state.isTerminal()) {
                    long age = s.heartbeatAgeMillis() == null ? options.deadAfter().toMillis() : s.heartbeatAgeMillis();
                    markDead(s.id(), now - age, "the engine reports it down");
                }
            }
        } finally {
            lock.unlock();
        }
        Map<PartitionId, String> lost = AvailabilityCheck.lost(c, id -> dead.contains(id) && silent(c, id));
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
        lock.lock();
        try {
            if (autoPaused && lost.isEmpty()) {
                autoPaused = false;
                if (state == RunState.PAUSED) {
                    listener.log(ExecutionListener.Level.INFO, "Every partition has a live leader and a live majority again: the run goes on by itself");
                    resume();
                }
                return;
            }
            if (!confirmed.isEmpty() && state == RunState.RUNNING) {
                List<String> named = confirmed.stream().map(lost::get).toList();
                listener.log(ExecutionListener.Level.WARN, "Paused: the cluster lost availability in a way the plan cannot route around: "
                        + String.join("; ", named.subList(0, Math.min(5, named.size()))) + (named.size() > 5 ? "; …" : "")
                        + ". Steps in flight finish; the run goes on by itself once every partition has a live majority again "
                        + "(a dead server restarted), or cancel it.");
                pause();
                autoPaused = true;
            }
        } finally {
            lock.unlock();
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
        stepListener.stepProgress(step, fraction, message); // what it throws ends the step
    }

    /** A step's own state change, from its worker: a listener that throws on it ends the step (it is rethrown). */
    private void setState(int i, StepState to, String message) {
        Throwable fault;
        lock.lock();
        try {
            fault = transition(i, to, message);
        } finally {
            lock.unlock();
        }
        if (fault instanceof RuntimeException r) {
            throw r;
        }
        if (fault instanceof Error e) {
            throw e;
        }
        if (fault != null) {
            throw new IllegalStateException(fault);
        }
    }

    /**
     * Moves step {@code i} to {@code to}; an illegal transition throws {@link IllegalStateException} naming
     * both states, and changes nothing. Once the state has changed the listener is told; what it throws is
     * logged and returned (null: nothing), for the callers to whom it matters. Caller holds the lock.
     */
    private Throwable transition(int i, StepState to, String message) {
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
        try {
            stepListener.stepStateChanged(plan.steps().get(i), from, to, message);
            return null;
        } catch (Throwable t) {
            LOG.log(Level.SEVERE, "the run's listener failed on step " + (i + 1) + " " + from + " → " + to, t);
            return t;
        }
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
                    new RunResult.Timeline(firstStepAt, firstMoveAt, lastMoveEndAt, sinceLaunch()),
                    state == RunState.REPLANNING ? new RunResult.Replan(replanWhy, deadSince) : null);
        } finally {
            lock.unlock();
        }
    }
}
