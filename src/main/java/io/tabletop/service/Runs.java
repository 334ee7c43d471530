package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.PlanExecution;
import io.tabletop.executor.Prelude;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.PlanRefusedException;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import io.tabletop.store.FormatException;
import io.tabletop.store.PlanJson;
import io.tabletop.store.ProcessLock;
import io.tabletop.store.RunJournal.RunRecord;
import io.tabletop.store.RunJournal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Runs that survive the process: every run writes a journal ({@link RunJournal}) and the audit log
 * ({@link AuditLog}) as it goes; {@link #list} shows runs and their state; {@link #prepareResume} reads the
 * live cluster for an interrupted run, checks what the journal says against it, and re-plans what is left;
 * {@link #resume} runs that, in the same journal. One instance per process (it knows which runs it is
 * running now). Thread-safe.
 */
public final class Runs {
    private static final Logger LOG = Logger.getLogger(Runs.class.getName());
    private static final DateTimeFormatter ID = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT).withZone(ZoneOffset.UTC);
    private final Path runsDir;
    private final AuditLog audit;
    private final Planner planner = new Planner();
    private final Set<String> active = ConcurrentHashMap.newKeySet();
    private final RunCatalog catalog;
    private final io.tabletop.store.Storage journals;
    /** The run and cluster locks; those held for resumes being prepared, by run id. */
    private final RunLocks locks;

    public Runs() {
        this(AppPaths.home().resolve("runs"), new AuditLog(AppPaths.home().resolve("audit.jsonl")));
    }

    public Runs(Path runsDir, AuditLog audit) {
        this(runsDir, audit, io.tabletop.store.Storage.DISK);
    }

    /** Runs whose journals are opened through {@code journals} (tests: a store that refuses writes or fills up). */
    public Runs(Path runsDir, AuditLog audit, io.tabletop.store.Storage journals) {
        this.runsDir = runsDir;
        this.audit = audit;
        this.journals = journals;
        this.catalog = new RunCatalog(runsDir, active);
        this.locks = new RunLocks(runsDir);
    }

    public Path runsDir() {
        return runsDir;
    }

    public AuditLog audit() {
        return audit;
    }

    /**
     * Re-plans in one run at most this many times before it ends FAILED: a dead server, then the engine's
     * own rebuild putting copies where the plan meant to (each one plans what is left from the live cluster).
     */
    static final int MAX_REPLANS = 8;

    /**
     * A run in progress: its id, journal, and the execution of its current plan (a new one after each
     * re-plan around a lost server). {@link #done} completes when the last attempt has ended and the
     * journal has recorded it. Thread-safe.
     */
    public static final class Run {
        private final String runId;
        private final RunJournal journal;
        private final CompletableFuture<RunResult> done = new CompletableFuture<>();
        private volatile PlanExecution current;
        private volatile boolean cancelled;
        /** Engine settings the run changed, to put back when it ends. */
        private volatile Map<String, String> restore = Map.of();
        private volatile ClusterConnector connector;
        private volatile ExecutionListener listener = ExecutionListener.NONE;
        private volatile Runs runs;
        /** Whether a sweep of dead copies is under way. */
        private final java.util.concurrent.atomic.AtomicBoolean sweeping = new java.util.concurrent.atomic.AtomicBoolean();
        /** Dead servers known to the run's earlier attempts, with the run clock's millis since when. */
        private final Map<ServerId, Long> dead = new ConcurrentHashMap<>();
        /** The first record (journal line or audit record) that could not be written: which file, and why. */
        private final java.util.concurrent.atomic.AtomicReference<String> fault = new java.util.concurrent.atomic.AtomicReference<>();
        /** The run's lock and its cluster's, held until the run ends. */
        private final List<ProcessLock> locks = new java.util.concurrent.CopyOnWriteArrayList<>();

        Run(String runId, RunJournal journal) {
            this.runId = runId;
            this.journal = journal;
        }

        public String runId() {
            return runId;
        }

        public RunJournal journal() {
            return journal;
        }

        /**
         * Null while every record of the run has been written; else the first that could not be ("cannot write the
         * audit log /…/audit.jsonl: No space left on device"). Once set, no step of the run starts any more.
         */
        public String recordFault() {
            return fault.get();
        }

        /** Sets the fault; true when it is the first. */
        boolean fault(String why) {
            return fault.compareAndSet(null, why);
        }

        public PlanExecution execution() {
            return current;
        }

        public CompletableFuture<RunResult> done() {
            return done;
        }

        public void pause() {
            current.pause();
        }

        public void resume() {
            current.resume();
        }

        /** The servers this run has found dead (in any attempt), with the run clock's millis since when they are silent. */
        public Map<ServerId, Long> deadServers() {
            Map<ServerId, Long> out = new LinkedHashMap<>(dead);
            PlanExecution c = current;
            if (c != null) {
                c.deadServers().forEach(out::putIfAbsent);
            }
            return out;
        }

        /**
         * How many partitions have a copy on a server this run has found dead, which the operator may have
         * replaced now ({@link #replaceDeadCopiesNow}) instead of waiting for the engine; 0 when none (or the
         * engine does not allow it).
         */
        public int deadCopies() throws ConnectorException {
            Map<ServerId, Long> d = deadServers();
            if (d.isEmpty() || connector == null || !connector.canEvictDeadCopies()) {
                return 0;
            }
            return DeadCopies.find(connector.snapshot(), d.keySet()).size();
        }

        /**
         * The operator's "Replace the dead copies now": drops every copy on a server this run found dead from
         * its partition's config (audited, each with its exact command), so that the engine builds the new
         * copies now instead of after its own timeout. A partition whose remaining copies could not commit the
         * change (no live majority) is left as it is. Returns how many copies were dropped.
         */
        public int replaceDeadCopiesNow() throws ConnectorException {
            if (connector == null) {
                throw new IllegalStateException("the run has not started");
            }
            return runs.replaceDeadCopies(this, connector, deadServers().keySet(), listener, "the operator chose to replace them now");
        }

        /** Takes the settings to put back, so that they are put back once: by the run's end or by {@link #interrupted}. */
        private synchronized Map<String, String> takeRestore() {
            Map<String, String> r = restore;
            restore = Map.of();
            return r;
        }

        /** Gives back settings that could not be put back, for whoever tries next. */
        private synchronized void giveBackRestore(Map<String, String> r) {
            if (restore.isEmpty()) {
                restore = r;
            }
        }

        /**
         * The process is going away (Ctrl-C): no new step starts (the attempt pauses; steps in flight go on
         * while the process lasts, and the engine finishes what it was given), and the engine settings the run
         * changed are put back now, waiting at most {@code bound} for the engine; the restore is journaled and
         * audited, so a resume does not do it again, and so is the interruption. The journal gets no end: the
         * run stays resumable (INTERRUPTED once the process has gone). Returns one line for the operator, or
         * null when the run changed no setting or has ended. Never throws.
         */
        public String interrupted(Duration bound) {
            if (done.isDone()) {
                return null; // it ended, and its end put the settings back (or said how)
            }
            PlanExecution c = current;
            if (c != null) {
                try {
                    c.pause();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "pausing run " + runId + " on interrupt", e);
                }
            }
            try {
                journal.event("interrupted", "the process was interrupted: no new step starts; the run can be resumed");
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "cannot journal the interruption of run " + runId, e);
            }
            Map<String, String> settings = takeRestore();
            if (settings.isEmpty() || runs == null || connector == null) {
                return null;
            }
            String what = settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
            String resume = "tabletop resume " + runId + " --yes";
            String cluster = c == null ? "" : c.plan().before().cluster();
            CompletableFuture<Void> putBack = new CompletableFuture<>();
            Thread t = new Thread(() -> { // the process is stopping: no pool is left to ask
                try {
                    String fault = runs.putBack(connector, journal, cluster, runId, settings);
                    if (fault != null) {
                        fault(fault);
                    }
                    putBack.complete(null);
                } catch (Throwable e) {
                    putBack.completeExceptionally(e);
                }
            }, "tabletop-restore-on-interrupt");
            t.setDaemon(true);
            t.start();
            try {
                putBack.get(bound.toMillis(), TimeUnit.MILLISECONDS);
                return "Interrupted: the engine's settings are put back (" + what + "); the run stops here, continue it with: " + resume;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                giveBackRestore(settings);
                return "Interrupted: " + what + " may not be put back (interrupted while putting it back); put it back with: " + resume;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                giveBackRestore(settings);
                Throwable why = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
                LOG.log(Level.SEVERE, "cannot put back " + settings + " after run " + runId + " was interrupted", why);
                String reason = why instanceof java.util.concurrent.TimeoutException ? "no answer within " + bound.toSeconds() + " s"
                        : why.getMessage() == null ? why.getClass().getSimpleName() : why.getMessage().replaceAll("\\s*\\R\\s*", " ");
                return "Interrupted: could not put back " + what + " (" + reason + "); put it back with: " + resume
                        + " (it puts them back when it ends)";
            }
        }

        /**
         * For a test that stands for a process that dies while the run goes on inside the JVM: lets go of the
         * run's lock and its cluster's, as the operating system does when a process ends. The run goes on.
         */
        public void abandonLocks() {
            RunLocks.releaseAll(locks);
        }

        /** Cancels the attempt running now; a cancel that arrives while the run re-plans ends it before the next attempt. */
        public void cancel() {
            PlanExecution c;
            synchronized (this) {
                cancelled = true;
                c = current;
            }
            c.cancel();
        }
    }

    // ---- starting ------------------------------------------------------------------------------

    /** Starts {@code plan} with a new journal. {@code connect} is the connection spec a resume will reopen. */
    public Run start(Plan plan, ClusterConnector connector, String connect, boolean stopLocal, ExecutorOptions options,
                     ExecutionListener listener, StepDispatcher dispatcher) throws IOException {
        String runId = ID.format(Instant.now()) + "-" + String.format(Locale.ROOT, "%04x", ThreadLocalRandom.current().nextInt(0x10000));
        List<ProcessLock> locks = new ArrayList<>();
        RunJournal journal;
        try {
            locks.addAll(this.locks.lockCluster(connector, plan.before().cluster(), runId, "runs"));
            locks.add(this.locks.lockRun(runsDir.resolve(runId), runId, "runs"));
            journal = RunJournal.create(runsDir, new RunJournal.Header(runId, Instant.now(), user(),
                    ProcessHandle.current().pid(), connect, plan.before().cluster(), plan.before().engine().wireName(),
                    PlanJson.goalToTree(plan.goal()), stopLocal), plan, journals);
            anchor(journal, "start", auditBeforeRun(journal, plan.before().cluster(), runId, "run started: " + plan.steps().size() + " steps"));
        } catch (IOException | RuntimeException e) {
            RunLocks.releaseAll(locks);
            throw e;
        }
        Run run = new Run(runId, journal);
        run.locks.addAll(locks);
        ExecutionListener l = listener == null ? ExecutionListener.NONE : listener;
        run.connector = connector;
        run.listener = l;
        run.runs = this;
        run.restore = prepareSettings(connector, run, plan.before().cluster(), Map.of(), l);
        launch(run, plan, connector, options, l, dispatcher, 0);
        return run;
    }

    /**
     * Lets the connector change what the engine needs changed for a run ({@link ClusterConnector#prepareRun}),
     * journals and audits the values to put back (with {@code pending}, left by an attempt that was killed),
     * and returns them. A failure is logged: the run goes on, and the engine refuses what it must.
     */
    private Map<String, String> prepareSettings(ClusterConnector connector, Run run, String cluster,
                                                Map<String, String> pending, ExecutionListener listener) {
        RunJournal journal = run.journal();
        String runId = run.runId();
        Map<String, String> restore = new LinkedHashMap<>(pending);
        try {
            connector.prepareRun().forEach(restore::putIfAbsent);
        } catch (ConnectorException e) {
            LOG.log(Level.WARNING, "cannot prepare the cluster for run " + runId, e);
            listener.log(ExecutionListener.Level.WARN, "Could not prepare the cluster for the run: " + e.getMessage());
        }
        if (!restore.isEmpty()) {
            try {
                journal.settingsChanged(restore);
            } catch (IOException e) {
                LOG.log(Level.SEVERE, "journal write failed", e);
                journalFailed(run, cluster, e); // no step starts; the run's end puts the settings back
            }
            audit(run, cluster, null, "engine settings changed for the run, put back when it ends: " + restore, null);
            listener.log(ExecutionListener.Level.INFO, "Engine settings changed for the run (put back when it ends): " + restore);
        }
        return restore;
    }

    /** Puts back what {@link #prepareSettings} changed; a failure says what to set by hand. */
    private void restoreSettings(Run run, ClusterConnector connector, String cluster, ExecutionListener listener) {
        Map<String, String> restore = run.takeRestore();
        if (restore.isEmpty()) {
            return;
        }
        try {
            String fault = putBack(connector, run.journal(), cluster, run.runId(), restore);
            listener.log(ExecutionListener.Level.INFO, "Engine settings put back: " + restore);
            if (fault != null && run.fault(fault)) {
                listener.log(ExecutionListener.Level.ERROR, "Engine settings put back, but not recorded: " + fault);
            }
        } catch (ConnectorException e) {
            run.giveBackRestore(restore);
            LOG.log(Level.SEVERE, "cannot put back " + restore + " after run " + run.runId(), e);
            listener.log(ExecutionListener.Level.ERROR, "Could not put back " + restore + " (" + e.getMessage() + "): set it by hand, "
                    + "or resume the run, which puts it back when it ends");
        }
    }

    /**
     * Puts {@code settings} back in the cluster, then journals (where {@code journal} is open) and audits it;
     * null when both records were written, else the first that could not be (which file, and why): the
     * settings are back either way, and the caller makes the failure its run's fault.
     */
    private String putBack(ClusterConnector connector, RunJournal journal, String cluster, String runId, Map<String, String> settings)
            throws ConnectorException {
        connector.restoreAfterRun(settings);
        String fault = null;
        try {
            if (journal != null) {
                journal.settingsRestored(settings);
            }
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "cannot journal the restore of " + settings + " in run " + runId, e);
            fault = e.getMessage();
        }
        if (audit(cluster, runId, null, "engine settings put back: " + settings, null) == null && fault == null) {
            fault = "cannot write the audit log " + audit.file() + " (details in the log)";
        }
        return fault;
    }

    private static void closeQuietly(RunJournal journal) {
        if (journal != null) {
            try {
                journal.close();
            } catch (IOException e) {
                LOG.log(Level.FINE, "closing a journal", e);
            }
        }
    }

    /** Starts one attempt of the run; false (nothing started) when the run was cancelled since the last attempt. */
    private boolean launch(Run run, Plan plan, ClusterConnector connector, ExecutorOptions options, ExecutionListener listener,
                           StepDispatcher dispatcher, int replans) {
        String cluster = plan.before().cluster();
        String runId = run.runId();
        RunJournal journal = run.journal();
        RunJournaling journaling = new RunJournaling(this, run, journal, connector, runId, cluster, listener);
        if (options.replaceDeadCopies() && connector.canEvictDeadCopies()) {
            // the operator chose it before the run: a server found dead has its copies replaced at once, and so
            // has a copy the engine put on it before it knew it dead (seen at a later look)
            Runnable sweep = () -> {
                if (!run.sweeping.compareAndSet(false, true)) {
                    return; // one sweep at a time; the next look starts another if copies are left
                }
                Thread t = new Thread(() -> {
                    try {
                        replaceDeadCopies(run, connector, run.deadServers().keySet(), listener, "chosen for the run (--replace-dead-copies)");
                    } catch (ConnectorException | RuntimeException e) {
                        LOG.log(Level.WARNING, "replacing dead copies", e);
                        listener.log(ExecutionListener.Level.WARN, "Could not replace the dead copies now: " + e.getMessage()
                                + "; the engine replaces them after its own timeout");
                    } finally {
                        run.sweeping.set(false);
                    }
                }, "tabletop-replace-dead-copies");
                t.setDaemon(true);
                t.start();
            };
            journaling.onServerLost(id -> sweep.run());
            journaling.onDeadCopies(sweep);
        }
        PlanExecution ex = new PlanExecution(plan, connector, options, journaling, dispatcher);
        active.add(runId);
        ex.result().whenComplete((attempt, e) -> {
            RunResult r = attempt;
            if (e == null && r.state() == RunState.REPLANNING) {
                if (r.replan() != null) {
                    run.dead.putAll(r.replan().dead());
                }
                Plan next = run.cancelled || run.recordFault() != null ? null : replans >= MAX_REPLANS ? tooMany(listener) : replanAfter(run, plan, r, connector, options, listener);
                if (next != null) {
                    ExecutorOptions again = options.withPrelude(replanPrelude(options, next));
                    if (launch(run, next, connector, again, listener, dispatcher, replans + 1)) {
                        return;
                    }
                    listener.log(ExecutionListener.Level.WARN, "Cancelled while re-planning: the new plan was not started");
                }
                r = new RunResult(run.cancelled ? RunState.CANCELLED : RunState.FAILED, r.steps(), r.seconds(), r.timeline());
            }
            if (e == null && r.state() == RunState.FAILED && !run.cancelled && run.recordFault() == null && replans < MAX_REPLANS) {
                Plan next = replanAroundLostServers(run, plan, r, connector, listener);
                if (next != null) {
                    // the pre-check's reads are about a cluster that has changed since: the new attempt reads its own
                    ExecutorOptions again = options.withPrelude(options.prelude() == null ? null : Prelude.launched(options.prelude().launchedAt()));
                    if (launch(run, next, connector, again, listener, dispatcher, replans + 1)) {
                        return;
                    }
                    listener.log(ExecutionListener.Level.WARN, "Cancelled while re-planning: the new plan was not started");
                }
            }
            if (e == null && run.cancelled && r.state() == RunState.FAILED) {
                r = new RunResult(RunState.CANCELLED, r.steps(), r.seconds(), r.timeline());
            }
            if (e == null && run.recordFault() != null && r.state() == RunState.SUCCEEDED) {
                // every step ran, but not every record of it was written: the run is not one to trust as done
                r = new RunResult(RunState.FAILED, r.steps(), r.seconds(), r.timeline());
            }
            active.remove(runId);
            restoreSettings(run, connector, cluster, listener);
            try {
                String state = e != null ? "FAILED" : r.state().name();
                String summary = e != null ? String.valueOf(e) : r.count(StepState.SUCCEEDED) + " of " + plan.steps().size() + " steps succeeded"
                        + (r.timeline().describe().isEmpty() ? "" : "; " + r.timeline().describe())
                        + (run.recordFault() == null ? "" : "; stopped: " + run.recordFault());
                // a failure here is the run's record fault (audit() and journalFailed set it): the run's outcome
                // is then not one to trust as recorded, and the command says which file and why
                AuditLog.Head end = audit(run, cluster, null, "run ended " + state + ": " + summary, null);
                journal.end(state, summary);
                anchor(journal, "end", end);
            } catch (IOException io) {
                LOG.log(Level.SEVERE, "cannot finish the journal of run " + runId, io);
                journalFailed(run, cluster, io);
            }
            closeQuietly(journal);
            RunLocks.releaseAll(run.locks); // after the journal's end: a look in between sees the run RUNNING, never INTERRUPTED
            if (e != null) {
                run.done.completeExceptionally(e);
            } else {
                run.done.complete(r);
            }
        });
        synchronized (run) {
            if (run.cancelled && run.current != null) {
                return false; // cancelled between two attempts
            }
            run.current = ex;
            ex.start();
        }
        return true;
    }

    /**
     * After a failed attempt: if a server the plan relied on has died (not one being removed), plans the
     * rest again from the live cluster, rebuilding the dead server's replicas on the others first; null
     * when nothing died or the re-plan is refused (the listener is told why).
     */
    private Plan replanAroundLostServers(Run run, Plan plan, RunResult result, ClusterConnector connector, ExecutionListener listener) {
        if (!(plan.goal() instanceof RemoveServers goal)) {
            return null;
        }
        ClusterSnapshot live;
        try {
            live = connector.snapshot();
            // The engine may take a moment to declare a server dead (Kudu: tserver_unresponsive_timeout_ms,
            // 60 s by default): wait for it when a failed step's destination is the suspect.
            Set<ServerId> suspects = new HashSet<>();
            result.failures().forEach(f -> {
                if (f.step().to() != null && f.failure() == ConnectorException.Kind.SERVER_LOST) {
                    suspects.add(f.step().to());
                }
            });
            long deadline = System.nanoTime() + ClusterSettling.DEATH_WAIT_MILLIS * 1_000_000L;
            while (!run.cancelled && !suspects.isEmpty() && System.nanoTime() < deadline && ClusterSettling.declaredDead(live, suspects).isEmpty()) {
                TimeUnit.SECONDS.sleep(1);
                live = connector.snapshot();
            }
        } catch (ConnectorException e) {
            listener.log(ExecutionListener.Level.ERROR, "cannot read the cluster to re-plan: " + e.getMessage());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        List<ServerId> lost = new ArrayList<>();
        ClusterSnapshot seen = live;
        for (var s : plan.before().servers()) {
            if (s.state().isUp() && !goal.servers().contains(s.id())
                    && seen.server(s.id()).map(x -> !x.state().isUp()).orElse(false)) {
                lost.add(s.id());
            }
        }
        lost.addAll(goal.rebuild().stream().filter(id -> seen.server(id).map(x -> !x.state().isUp()).orElse(false)
                && !lost.contains(id)).toList());
        if (lost.isEmpty()) {
            return null;
        }
        String lostNames = lost.stream().map(ServerId::value).collect(Collectors.joining(", "));
        if (connector.capabilities().engineRereplicates()) {
            // The engine rebuilds the dead server's copies itself (Kudu, 3-4-3): wait for that, rather than
            // race it with moves of our own, then plan the rest.
            String waiting = lostNames + " died during the run: waiting for the engine to rebuild its copies on the other servers";
            listener.log(ExecutionListener.Level.WARN, waiting);
            try {
                run.journal().event("warn", waiting);
            } catch (IOException e) {
                LOG.log(Level.SEVERE, "journal write failed", e);
                journalFailed(run, live.cluster(), e);
                return null; // no new work without its record
            }
            try {
                long deadline = System.nanoTime() + ClusterSettling.REREPLICATION_WAIT_MILLIS * 1_000_000L;
                ClusterSnapshot c = live;
                while (!run.cancelled && System.nanoTime() < deadline && (c.partitions().stream().anyMatch(p -> lost.stream().anyMatch(p::isOn)) || ClusterSettling.unsettled(c) > 0)) {
                    TimeUnit.SECONDS.sleep(1);
                    c = connector.snapshot();
                }
                live = repaired(c, connector, listener, run.runId());
            } catch (ConnectorException e) {
                listener.log(ExecutionListener.Level.ERROR, "cannot read the cluster to re-plan: " + e.getMessage());
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        ClusterSnapshot now = live;
        List<ServerId> lostHolding = lost.stream().filter(id -> now.partitions().stream().anyMatch(p -> p.isOn(id))).toList();
        List<ServerId> left = goal.servers().stream().filter(id -> now.server(id).isPresent()).toList();
        String names = lostNames;
        if (left.isEmpty() && lostHolding.isEmpty()) {
            return null;
        }
        try {
            Plan next = planner.plan(now, new RemoveServers(left, goal.balanceLeaders(), goal.fillLimit(), goal.strategy(), lostHolding),
                    connector.capabilities());
            String why = names + " died during the run: " + (lostHolding.isEmpty() ? "" : "its replicas are rebuilt on the other servers, and ")
                    + "what is left is planned again around it (" + next.steps().size() + " steps)";
            return announced(run, next, now.cluster(), why, listener);
        } catch (PlanRefusedException e) {
            listener.log(ExecutionListener.Level.ERROR, names + " died during the run, and the rest cannot be planned around it: " + e.getMessage());
            return null;
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "journal write failed", e);
            return null;
        }
    }

    /** A new plan for the run, told to the operator, journaled as a new attempt and audited. */
    private Plan announced(Run run, Plan next, String cluster, String why, ExecutionListener listener) throws IOException {
        listener.log(ExecutionListener.Level.WARN, "Re-planned: " + why);
        try {
            run.journal().attempt(next, "re-planned: " + why);
        } catch (IOException e) {
            journalFailed(run, cluster, e);
            throw e;
        }
        if (audit(run, cluster, null, "run re-planned: " + why, null) == null) {
            throw new IOException(run.recordFault());
        }
        listener.planReplaced(next, why);
        return next;
    }

    private static Plan tooMany(ExecutionListener listener) {
        listener.log(ExecutionListener.Level.ERROR, "The run was planned again " + MAX_REPLANS + " times and the cluster still changes under it: "
                + "it stops here. Look at the cluster (ksck), then resume the run, which plans what is left from the live cluster.");
        return null;
    }

    /**
     * What the re-planned attempt starts from: the re-plan's own look at the cluster, seconds old, answers its
     * first health gate when every partition still has a live leader and a live majority (the dead server's
     * copies are the engine's to replace, and the run waits for that wherever a step needs it).
     */
    private static Prelude replanPrelude(ExecutorOptions options, Plan next) {
        Instant launched = options.prelude() == null ? null : options.prelude().launchedAt();
        List<String> lost = new ArrayList<>();
        ClusterSnapshot c = next.before();
        for (var p : c.partitions()) {
            long live = p.replicas().stream().filter(r -> r.role().isVoter() && c.server(r.server()).map(x -> x.state().isUp()).orElse(false)).count();
            int rf = c.table(p.table()).map(t -> t.replicationFactor()).orElse(p.voterCount());
            if (live <= rf / 2) {
                lost.add(p.id().value());
            }
        }
        if (!lost.isEmpty()) {
            return Prelude.launched(launched); // the gate asks the engine, and the run pauses where it must
        }
        return new Prelude(launched, Instant.now(), new HealthReport(Verdict.PASS, "the re-plan's look: every partition has a live majority; "
                + "copies on dead servers are left for the engine to replace", List.of()));
    }

    /**
     * Plans what is left after an attempt ended for a re-plan ({@link RunState#REPLANNING}): the servers it
     * found dead are dead for the plan (no step goes to them; an engine that replaces dead copies itself keeps
     * that job, any other has them rebuilt by the plan), read from the live cluster now, not after the engine
     * has declared them dead. Null when nothing can be planned (the listener is told why).
     */
    private Plan replanAfter(Run run, Plan plan, RunResult result, ClusterConnector connector, ExecutorOptions options,
                             ExecutionListener listener) {
        String why = result.replan() == null ? "the cluster changed under the run" : result.replan().why();
        if (!(plan.goal() instanceof RemoveServers goal)) {
            listener.log(ExecutionListener.Level.ERROR, why + ": only a removal is planned again during its run; resume the run to plan the rest");
            return null;
        }
        try {
            if (options.replaceDeadCopies() && connector.canEvictDeadCopies() && run.sweeping.compareAndSet(false, true)) {
                try {
                    replaceDeadCopies(run, connector, run.dead.keySet(), listener, "chosen for the run (--replace-dead-copies)");
                } catch (ConnectorException e) {
                    LOG.log(Level.WARNING, "replacing dead copies", e);
                    listener.log(ExecutionListener.Level.WARN, "Could not replace the dead copies now: " + e.getMessage()
                            + "; the engine replaces them after its own timeout");
                } finally {
                    run.sweeping.set(false);
                }
            }
            // A plan the cluster refuses while the engine is still placing copies (a replacement it adds a moment
            // after the look, a REPLACE-marked copy not yet evicted) is tried again once that has settled.
            Plan next = null;
            ClusterSnapshot now = null;
            long planDeadline = System.nanoTime() + ClusterSettling.SETTLE_MILLIS * 1_000_000L;
            for (int tries = 0; next == null; tries++) {
                if (tries > 0) {
                    TimeUnit.SECONDS.sleep(2); // polling a remote cluster, not a test wait
                }
                now = replanLook(run, connector, listener, options);
                ClusterSnapshot seen = now;
                List<ServerId> left = goal.servers().stream().filter(id -> seen.server(id).isPresent()).toList();
                List<ServerId> rebuild = connector.capabilities().engineRereplicates() ? List.of()
                        : run.dead.keySet().stream().filter(id -> seen.partitions().stream().anyMatch(p -> p.isOn(id))).toList();
                if (left.isEmpty() && rebuild.isEmpty()) {
                    listener.log(ExecutionListener.Level.ERROR, why + ", and nothing is left to plan");
                    return null;
                }
                try {
                    next = planner.plan(now, new RemoveServers(left, goal.balanceLeaders(), goal.fillLimit(), goal.strategy(), rebuild),
                            connector.capabilities());
                } catch (PlanRefusedException e) {
                    if (!connector.capabilities().engineRereplicates() || run.cancelled || System.nanoTime() > planDeadline) {
                        throw e;
                    }
                    listener.log(ExecutionListener.Level.INFO, "not plannable yet (" + e.getMessage() + "); the engine is still placing copies, "
                            + "looking again in 2 s");
                }
            }
            long waiting = connector.capabilities().engineRereplicates()
                    ? DeadCopies.find(now, run.dead.keySet()).size() : 0;
            String text = why + ": what is left is planned again from the live cluster (" + next.steps().size() + " steps)"
                    + (waiting > 0 ? "; " + waiting + " tablet(s) keep a copy on a dead server until the engine replaces it, and their moves wait for that" : "");
            return announced(run, next, now.cluster(), text, listener);
        } catch (ConnectorException e) {
            listener.log(ExecutionListener.Level.ERROR, "cannot read the cluster to plan again: " + e.getMessage());
            return null;
        } catch (PlanRefusedException e) {
            listener.log(ExecutionListener.Level.ERROR, why + ", and the rest cannot be planned around it: " + e.getMessage());
            return null;
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "journal write failed", e);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "re-planning run " + run.runId(), e);
            listener.log(ExecutionListener.Level.ERROR, why + ", and planning the rest failed: " + e.getMessage() + " (details in the log)");
            return null;
        }
    }

    /**
     * The re-plan's look at the cluster: once the copies the engine is building on live servers are built and
     * what a move cut short is repaired, with the run's dead servers marked dead.
     */
    private ClusterSnapshot replanLook(Run run, ClusterConnector connector, ExecutionListener listener, ExecutorOptions options)
            throws ConnectorException, InterruptedException {
        ClusterSnapshot live = connector.snapshot();
        if (connector.capabilities().engineRereplicates()) {
            // the engine is building copies (its own replacements, or moves cut short): plan once it is done,
            // or the plan would place replicas where the engine is putting them
            long deadline = System.nanoTime() + ClusterSettling.SETTLE_MILLIS * 1_000_000L;
            while (!run.cancelled && System.nanoTime() < deadline && ClusterSettling.building(live, run.dead.keySet()) > 0) {
                TimeUnit.MILLISECONDS.sleep(500); // polling a remote cluster, not a test wait
                live = connector.snapshot();
            }
            // a moved leader left with its REPLACE mark keeps one voter too many until it steps down: the same
            // repair as after a failed attempt, or the planner finds no destination for the drained copy
            live = repaired(live, connector, listener, run.runId());
        }
        for (ServerId d : run.dead.keySet()) {
            if (live.server(d).map(x -> !x.silentFor(options.deadAfter().toMillis())).orElse(false)) {
                listener.log(ExecutionListener.Level.INFO, d + " answers again; it still takes nothing in this run");
            }
            if (live.server(d).isPresent()) {
                live = live.withServerState(d, io.tabletop.domain.ServerState.DEAD);
            }
        }
        return live;
    }

    /**
     * Drops every copy on {@code dead} servers from its partition's config, each audited with its exact command
     * before it is made, so that the engine builds new copies now. Partitions whose other copies hold no live
     * majority are left alone (the change could not commit). Returns how many copies were dropped.
     */
    int replaceDeadCopies(Run run, ClusterConnector connector, java.util.Collection<ServerId> dead, ExecutionListener listener, String why)
            throws ConnectorException {
        ClusterSnapshot c = connector.snapshot();
        // a server that answers again keeps its copies
        List<ServerId> silent = dead.stream().filter(id -> c.server(id).map(x -> x.silentFor(ExecutorOptions.DEAD_AFTER.toMillis())).orElse(false)).toList();
        List<DeadCopies.Copy> copies = DeadCopies.find(c, silent);
        int done = 0;
        int skipped = 0;
        int failed = 0;
        if (copies.isEmpty()) {
            return 0;
        }
        for (DeadCopies.Copy copy : copies) {
            if (!copy.majorityWithout()) {
                skipped++;
                continue;
            }
            if (audit(run, c.cluster(), "replace dead copies", "drop the copy of " + copy.partition() + " on dead " + copy.server()
                    + " so that the engine builds a new one now (" + why + ")", connector.evictCommand(copy.partition(), copy.server())) == null) {
                break; // nothing is changed without its record
            }
            try {
                connector.evictCopy(copy.partition(), copy.server());
                done++;
            } catch (ConnectorException e) {
                // one tablet's refusal (a config change of its own under way) does not stop the others; the next look tries again
                LOG.log(Level.INFO, "dropping the copy of " + copy.partition() + " on " + copy.server(), e);
                audit(run, c.cluster(), "replace dead copies", "not dropped: " + e.getMessage(), null);
                failed++;
            }
        }
        if (done == 0) {
            return 0;
        }
        String line = "Replacing the dead copies now (" + why + "): dropped " + done + " copy(ies) on "
                + silent.stream().map(ServerId::value).sorted().collect(Collectors.joining(", "))
                + "; the engine builds new ones at once" + (skipped > 0 ? "; " + skipped + " left alone (no live majority without them)" : "")
                + (failed > 0 ? "; " + failed + " refused for now (tried again at the next look)" : "");
        listener.log(ExecutionListener.Level.WARN, line);
        try {
            run.journal().event("replace-dead-copies", line);
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "journal write failed", e);
            journalFailed(run, c.cluster(), e);
        }
        return done;
    }

    /**
     * One change to the cluster outside a plan's run (the console's "Exit maintenance" after a cancelled
     * run): audited with its exact command before it is made, under the run it belongs to.
     */
    public void executeAudited(ClusterConnector connector, String cluster, String runId, Step step, String why)
            throws ConnectorException, InterruptedException {
        try {
            audit.append(new AuditLog.Entry(Instant.now(), user(), cluster, runId, step.describe(), why, connector.command(step)));
        } catch (IOException e) {
            throw new ConnectorException(connector.engine(), step.describe(), "not done: " + e.getMessage() + " (nothing is changed without its record)",
                    false, e);
        }
        connector.execute(step, new ClusterConnector.StepProgress() {
            @Override
            public void update(double fraction, String message) {
            }

            @Override
            public void action(String what, String command) {
                try {
                    audit.append(new AuditLog.Entry(Instant.now(), user(), cluster, runId, step.describe(), what, command));
                } catch (IOException e) {
                    throw new IllegalStateException("not done: " + what + ": " + e.getMessage(), e);
                }
            }
        });
    }

    /** Appends to the audit log; the log's new head, or null when it could not be written (logged). */
    AuditLog.Head audit(String cluster, String run, String step, String action, String command) {
        try {
            return audit.append(new AuditLog.Entry(Instant.now(), user(), cluster, run, step, action, command));
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "cannot write the audit log " + audit.file(), e);
            return null;
        }
    }

    /**
     * Appends a record of {@code run} to the audit log; the log's new head, or null when it could not be
     * written: then the run's fault is set (no step of it starts any more), and its journal keeps what the
     * log is missing ({@code audit-gap}, which {@code tabletop audit} reports).
     */
    AuditLog.Head audit(Run run, String cluster, String step, String action, String command) {
        try {
            return audit.append(new AuditLog.Entry(Instant.now(), user(), cluster, run.runId(), step, action, command));
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.log(Level.SEVERE, "cannot write the audit log " + audit.file() + " for run " + run.runId(), e);
            String why = e.getMessage() != null ? e.getMessage() : "cannot write the audit log " + audit.file() + ": " + e;
            if (run.fault(why)) {
                run.listener.log(ExecutionListener.Level.ERROR, "The audit log cannot be written: " + why + "; no step starts any more");
            }
            try {
                run.journal().event("audit-gap", "not in the audit log (" + why + "): " + (step == null ? "" : "step " + step + ": ")
                        + action + (command == null ? "" : " — " + command));
            } catch (IOException j) {
                LOG.log(Level.SEVERE, "cannot journal the audit gap of run " + run.runId(), j);
                run.fault(j.getMessage());
            }
            return null;
        }
    }

    /** A journal write of {@code run} failed: no step of it starts any more, and the audit log says so (where it can). */
    void journalFailed(Run run, String cluster, IOException e) {
        if (run.fault(e.getMessage())) {
            run.listener.log(ExecutionListener.Level.ERROR, "The run's journal cannot be written: " + e.getMessage() + "; no step starts any more");
            audit(cluster, run.runId(), null, "the run's journal could not be written (" + e.getMessage() + "): no step starts any more", null);
        }
    }

    /**
     * The record a run (or a resume) starts with; when it cannot be written the journal ends FAILED (where it
     * can) and this throws, naming the file and the cause: nothing of the run starts.
     */
    private AuditLog.Head auditBeforeRun(RunJournal journal, String cluster, String runId, String action) throws IOException {
        try {
            return audit.append(new AuditLog.Entry(Instant.now(), user(), cluster, runId, null, action, null));
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "cannot write the audit log " + audit.file() + " for run " + runId, e);
            try {
                journal.event("audit-gap", "not in the audit log (" + e.getMessage() + "): " + action);
                journal.end("FAILED", "not started: " + e.getMessage());
            } catch (IOException j) {
                e.addSuppressed(j);
            } finally {
                closeQuietly(journal);
            }
            throw new IOException(e.getMessage() + "; run " + runId + " did not start (nothing runs without its record)", e);
        }
    }

    /** Records the audit head in the run's journal, where a truncation of the log shows. */
    private static void anchor(RunJournal journal, String when, AuditLog.Head head) throws IOException {
        if (head == null) {
            return;
        }
        journal.auditHead(when, head);
    }

    /**
     * The audit log against its head file and every run's anchors ({@link AuditLog#check}), and against the
     * runs directory: a run the log has records of whose journal is gone is a problem, named.
     */
    public AuditLog.Report checkAudit() throws IOException {
        AuditLog.Report r = AuditLog.check(audit.file(), RunJournal.auditAnchors(runsDir));
        List<String> extra = new ArrayList<>(RunJournal.auditGaps(runsDir)); // records a run had that never reached the log
        extra.addAll(catalog.missingJournals(AuditLog.runRecords(audit.file()))); // runs the log knows whose journal is gone
        if (extra.isEmpty()) {
            return r;
        }
        List<String> problems = new ArrayList<>(r.problems());
        problems.addAll(extra);
        return new AuditLog.Report(r.records(), List.copyOf(problems), r.notes());
    }

    /** The number of anchors the runs' journals hold. */
    public int auditAnchors() throws IOException {
        return RunJournal.auditAnchors(runsDir).size();
    }

    static String user() {
        return System.getProperty("user.name", "unknown");
    }

    // ---- locks (RunLocks) ----------------------------------------------------------------------

    /** A lock another process (or another part of this one) holds; the message is one line naming it. */
    public static final class LockedException extends IOException {
        public LockedException(String message) {
            super(message);
        }
    }

    /** The system property naming the machine-wide lock directory (tests point it at a directory of their own). */
    public static final String SHARED_LOCKS_PROPERTY = RunLocks.SHARED_LOCKS_PROPERTY;

    /**
     * Takes the run's lock for this process before a resume is prepared, and returns the run as its journal
     * says now (another process may have ended it since it was listed). Refused, in one line naming the
     * holder, when another process (or another {@code Runs}) holds it. Held until the resumed run ends, or
     * {@link #release}. Taking it again in this instance changes nothing.
     */
    public RunInfo claim(RunInfo run) throws IOException, NoSuchRunException {
        locks.claim(run.record().runId(), run.record().dir());
        try {
            RunRecord now = RunJournal.read(run.record().dir());
            return new RunInfo(now, now.ended() ? now.endState() : "INTERRUPTED"); // no one else runs it: this process holds its lock
        } catch (FormatException e) {
            return new RunInfo(run.record(), run.state().equals("RUNNING") ? "INTERRUPTED" : run.state());
        }
    }

    /** Lets go of the locks taken for a resume that will not run (a preview the operator left). */
    public void release(String runId) {
        locks.release(runId);
    }

    /**
     * The pre-check's look for another operation on the cluster: a run on it from this machine (its lock),
     * then what the engine shows in progress ({@link ClusterConnector#otherOperations}); BLOCKs naming each,
     * nothing when there is none.
     */
    public List<CheckResult> otherOperations(ClusterConnector connector, ClusterSnapshot snapshot) {
        List<CheckResult> out = new ArrayList<>();
        try {
            locks.clusterHolder(connector, snapshot.cluster())
                    .ifPresent(h -> out.add(CheckResult.block("Other operations", RunLocks.busy(snapshot.cluster(), h))));
        } catch (IOException e) {
            out.add(CheckResult.warn("Other operations", "cannot read this machine's lock on the cluster: " + e.getMessage()));
        }
        out.addAll(engineOperations(connector, snapshot, List.of()));
        return out;
    }

    /** What the engine shows in progress that is not the run's own ({@code own}: its servers): a BLOCK each. */
    private static List<CheckResult> engineOperations(ClusterConnector connector, ClusterSnapshot snapshot, java.util.Collection<ServerId> own) {
        try {
            return connector.otherOperations(snapshot, own).stream()
                    .map(line -> CheckResult.block("Other operations", line + "; wait for it to end, then try again")).toList();
        } catch (ConnectorException e) {
            return List.of(CheckResult.warn("Other operations", "cannot ask the engine for other operations: " + e.getMessage()));
        }
    }

    private static Set<String> unrestored(RunInfo run) {
        try {
            return RunJournal.unrestoredSettings(run.record().dir()).keySet();
        } catch (IOException e) {
            return Set.of();
        }
    }

    /** The servers a run itself puts in maintenance: those its removal takes out. */
    private static List<ServerId> ownServers(RunInfo run) {
        try {
            return PlanJson.readGoal(run.record().goal(), run.record().runId()) instanceof RemoveServers rs ? rs.servers() : List.of();
        } catch (FormatException e) {
            return List.of();
        }
    }

    // ---- listing -------------------------------------------------------------------------------

    /** One run as the list shows it. */
    public record RunInfo(RunRecord record, String state) {
        public boolean resumable() {
            return state.equals("INTERRUPTED") || state.equals("FAILED") || state.equals("CANCELLED");
        }
    }

    public List<RunInfo> list(List<String> problems) throws IOException {
        return catalog.list(problems);
    }

    /** SUCCEEDED/FAILED/CANCELLED from the journal's end; RUNNING while a process runs it; else INTERRUPTED. */
    public String state(RunRecord r) {
        return catalog.state(r);
    }

    /** A run by id (or a unique prefix of it), or the newest with {@code "latest"}. */
    public RunInfo find(String idOrLatest) throws IOException, NoSuchRunException {
        return catalog.find(idOrLatest);
    }

    public static final class NoSuchRunException extends Exception {
        public NoSuchRunException(String message) {
            super(message);
        }
    }

    // ---- resuming ------------------------------------------------------------------------------

    /**
     * What resuming would do: the journal checked against the live cluster, and the plan for what is left.
     *
     * @param plan null when nothing is left or a check blocks
     */
    public record Resume(RunInfo run, ClusterSnapshot live, List<CheckResult> checks, Plan plan, long alreadyDone) {
        public boolean blocked() {
            return checks.stream().anyMatch(c -> c.verdict() == Verdict.BLOCK);
        }
    }

    /** The journal checked against the live cluster, and the plan for what is left ({@link ResumePlanner}). */
    public Resume prepareResume(RunInfo run, ClusterConnector connector) throws ConnectorException {
        return prepareResume(run, connector, ClusterConnector.StepProgress.NONE);
    }

    /**
     * As above, reporting the wait for what the stopped run left running in the engine to {@code progress}.
     * The run's lock is taken first ({@link #claim}), then its cluster's, and held until the resumed run ends
     * (or, when nothing is resumed, released at once): a second resume of the run, or another operation on
     * the cluster from this machine, is refused with a BLOCK naming who holds it, before anything is read.
     */
    public Resume prepareResume(RunInfo listed, ClusterConnector connector, ClusterConnector.StepProgress progress) throws ConnectorException {
        RunInfo run;
        try {
            run = claim(listed);
        } catch (LockedException e) {
            return new Resume(listed, null, List.of(CheckResult.block("Run", e.getMessage())), null, 0);
        } catch (IOException | NoSuchRunException e) {
            return new Resume(listed, null, List.of(CheckResult.block("Run", "cannot lock run " + listed.record().runId() + ": " + e.getMessage())), null, 0);
        }
        String id = run.record().runId();
        boolean keep = false;
        try {
            if (run.resumable()) {
                try {
                    locks.claimed(id).addAll(locks.lockCluster(connector, run.record().cluster(), id, "resumes"));
                } catch (IOException e) {
                    return new Resume(run, null, List.of(CheckResult.block("Other operations", e.getMessage())), null, 0);
                }
            }
            Resume r = prepareClaimed(run, connector, progress);
            if (r.plan() != null && !r.blocked() && r.live() != null) {
                Set<String> leftChanged = unrestored(run); // a setting the run changed and never put back is its own, not another's
                List<CheckResult> others = engineOperations(connector, r.live(), ownServers(run)).stream()
                        .filter(c -> leftChanged.stream().noneMatch(k -> c.message().contains(k))).toList();
                if (!others.isEmpty()) {
                    List<CheckResult> checks = new ArrayList<>(r.checks());
                    checks.addAll(others);
                    boolean blocked = others.stream().anyMatch(c -> c.verdict() == Verdict.BLOCK);
                    r = new Resume(r.run(), r.live(), checks, blocked ? null : r.plan(), r.alreadyDone());
                }
            }
            keep = r.plan() != null && !r.blocked();
            return r;
        } finally {
            if (!keep) {
                release(id);
            }
        }
    }

    /** As above, for a run whose lock this instance holds. */
    private Resume prepareClaimed(RunInfo run, ClusterConnector connector, ClusterConnector.StepProgress progress) throws ConnectorException {
        Resume r = new ResumePlanner(this).prepare(run, connector, progress);
        if (r.plan() == null && run.resumable() && !r.blocked()) {
            // Nothing left to run: still put back what the killed run changed and never restored.
            Map<String, String> pending;
            try {
                pending = RunJournal.unrestoredSettings(run.record().dir());
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot read the settings of run " + run.record().runId(), e);
                return r;
            }
            if (!pending.isEmpty()) {
                List<CheckResult> checks = new ArrayList<>(r.checks());
                RunJournal journal = null;
                try {
                    journal = RunJournal.reopen(run.record().dir(), journals);
                } catch (FormatException | IOException e) {
                    LOG.log(Level.WARNING, "cannot reopen the journal of run " + run.record().runId(), e);
                }
                try {
                    String fault = putBack(connector, journal, r.live() == null ? run.record().cluster() : r.live().cluster(), run.record().runId(), pending);
                    checks.add(fault == null ? CheckResult.pass("Engine settings", "put back what the run had changed: " + pending)
                            : CheckResult.warn("Engine settings", "put back what the run had changed (" + pending + "), but its record could not be written: "
                            + fault + "; a later resume puts it back again"));
                } catch (ConnectorException e) {
                    checks.add(CheckResult.warn("Engine settings", "could not put back " + pending + ": " + e.getMessage() + "; set it by hand"));
                } finally {
                    closeQuietly(journal);
                }
                return new Resume(r.run(), r.live(), checks, null, r.alreadyDone());
            }
        }
        return r;
    }

    ClusterSnapshot repairedOrAsIs(ClusterSnapshot c, ClusterConnector connector, String runId) throws ConnectorException {
        try {
            return repaired(c, connector, ExecutionListener.NONE, runId);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return c;
        }
    }

    /**
     * Lets the engine's health gate repair what a move cut short left (Kudu: a tablet with one voter too
     * many, fixed by a leader step-down so that the master evicts the replaced copy), then reads the cluster
     * again. A gate that still fails is logged; the plan made next starts with a gate of its own.
     */
    private ClusterSnapshot repaired(ClusterSnapshot c, ClusterConnector connector, ExecutionListener listener, String runId)
            throws ConnectorException, InterruptedException {
        // Only voters that all answer can be repaired by a step-down; an extra voter on a silent server waits
        // for the engine's own re-replication, and a gate for it would only spend its repair timeout.
        long repairable = ClusterSettling.overReplicatedRepairable(c);
        if (repairable == 0 || !connector.capabilities().healthGates()) {
            return c;
        }
        Step gate = Step.gate(0, null, "repair what a move cut short left").withIndex(0);
        if (audit(c.cluster(), runId, "repair", "health gate before planning, to repair " + repairable
                + " partition(s) with more voters than their replication factor", connector.command(gate)) == null) {
            listener.log(ExecutionListener.Level.ERROR, "the health gate before re-planning is not run: the audit log " + audit.file()
                    + " cannot be written");
            throw new ConnectorException(connector.engine(), gate.describe(), "not done: the audit log " + audit.file()
                    + " cannot be written (nothing is changed without its record)", false, null);
        }
        java.util.concurrent.atomic.AtomicReference<String> refused = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            connector.execute(gate, new ClusterConnector.StepProgress() {
                @Override
                public void update(double fraction, String message) {
                }

                @Override
                public void action(String what, String command) {
                    if (audit(c.cluster(), runId, "repair", what, command) == null) {
                        // as executeAudited: the action does not go ahead without its record
                        refused.compareAndSet(null, "not done: " + what + ": the audit log " + audit.file() + " cannot be written");
                        throw new IllegalStateException(refused.get());
                    }
                    listener.log(ExecutionListener.Level.WARN, what);
                }
            });
        } catch (ConnectorException | RuntimeException e) {
            if (refused.get() != null) {
                listener.log(ExecutionListener.Level.ERROR, refused.get() + "; nothing more is changed without its record");
                throw new ConnectorException(connector.engine(), gate.describe(), refused.get() + " (nothing is changed without its record)", false, e);
            }
            if (e instanceof RuntimeException rt) {
                throw rt;
            }
            listener.log(ExecutionListener.Level.WARN, "the health gate before re-planning did not pass: " + e.getMessage());
        }
        // A gate that fails (a dead server fails Kudu's ksck) returns before the master has evicted what the
        // step-downs freed: wait for the partitions whose voters all answer, or the plan finds no destination.
        ClusterSnapshot now = connector.snapshot();
        long deadline = System.nanoTime() + ClusterSettling.REPAIR_WAIT_MILLIS * 1_000_000L;
        while (ClusterSettling.overReplicatedRepairable(now) > 0 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(500); // polling a remote cluster, not a test wait
            now = connector.snapshot();
        }
        return now;
    }

    /** Runs the re-planned rest in the run's own journal. */
    public Run resume(Resume resume, ClusterConnector connector, ExecutorOptions options, ExecutionListener listener,
                      StepDispatcher dispatcher) throws IOException, FormatException {
        if (resume.plan() == null) {
            throw new IllegalStateException("nothing to resume");
        }
        RunRecord r = resume.run().record();
        List<ProcessLock> locks = this.locks.take(r.runId());
        if (locks == null) { // not prepared by this instance: the locks are taken now, or the resume refused
            try {
                claim(resume.run());
            } catch (NoSuchRunException e) {
                throw new IOException(e.getMessage(), e);
            }
            locks = this.locks.take(r.runId());
            try {
                locks.addAll(this.locks.lockCluster(connector, resume.plan().before().cluster(), r.runId(), "resumes"));
            } catch (IOException e) {
                RunLocks.releaseAll(locks);
                throw e;
            }
        }
        RunJournal journal;
        try {
            journal = RunJournal.reopen(r.dir(), journals);
        } catch (IOException | FormatException | RuntimeException e) {
            RunLocks.releaseAll(locks);
            throw e;
        }
        journal.tornTail().ifPresent(cut -> {
            LOG.warning("run " + r.runId() + ": the journal's last line was torn: " + cut.describe());
            if (listener != null) {
                listener.log(ExecutionListener.Level.WARN, "The journal's last line was torn: " + cut.describe() + "; the journal goes on on a fresh line");
            }
        });
        try {
            journal.attempt(resume.plan(), "resumed by " + user() + " (process " + ProcessHandle.current().pid() + ") after "
                    + resume.alreadyDone() + " step(s) done; " + resume.plan().steps().size() + " step(s) planned again from the live cluster");
            anchor(journal, "start", auditBeforeRun(journal, resume.plan().before().cluster(), r.runId(), "run resumed: "
                    + resume.plan().steps().size() + " steps"));
        } catch (IOException | RuntimeException e) {
            closeQuietly(journal);
            RunLocks.releaseAll(locks);
            throw e;
        }
        Run run = new Run(r.runId(), journal);
        run.locks.addAll(locks);
        ExecutionListener l = listener == null ? ExecutionListener.NONE : listener;
        run.connector = connector;
        run.listener = l;
        run.runs = this;
        // what a killed attempt changed and never put back is put back when this one ends
        run.restore = prepareSettings(connector, run, resume.plan().before().cluster(), RunJournal.unrestoredSettings(r.dir()), l);
        launch(run, resume.plan(), connector, options, l, dispatcher, 0);
        return run;
    }

    /** The cluster as the run found it: what a restore puts back. */
    public ClusterSnapshot snapshotBefore(RunInfo run) throws IOException, FormatException {
        return RunJournal.snapshotBefore(run.record().dir());
    }

    /** Whether the run's cluster outlives the process that ran it (not a sandbox, which lived inside it). */
    public static boolean outlivesProcess(RunRecord r) {
        return !r.engine().equals(Engine.SANDBOX.wireName()) && !r.connect().toLowerCase(Locale.ROOT).startsWith("sandbox");
    }

    /** Ends an interrupted run whose work the cluster shows done. */
    public void markDone(RunInfo run, String summary) throws IOException, FormatException {
        try (RunJournal j = RunJournal.reopen(run.record().dir(), journals)) {
            // the audit record first (write-ahead): a failure throws, naming the file, and the run stays as it was
            AuditLog.Head head = audit.append(new AuditLog.Entry(Instant.now(), user(), run.record().cluster(), run.record().runId(), null,
                    "run ended SUCCEEDED: " + summary, null));
            j.end("SUCCEEDED", summary);
            anchor(j, "end", head);
        }
    }
}
