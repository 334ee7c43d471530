package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.Prelude;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.planner.Goal;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Rebalance;
import io.tabletop.planner.RemoveServers;
import io.tabletop.planner.Restore;
import io.tabletop.planner.ScaleOut;
import io.tabletop.store.FormatException;

import io.tabletop.executor.Prelude;
import java.time.Instant;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One thing a DBA does to a cluster, walked through the same flow (pre-check, preview, confirm, run, verify,
 * export): remove servers, scale out onto new ones, rebalance, restore a run's starting placement, resume
 * an interrupted run. A goal supplies its title, the word the operator types to confirm, which options it
 * takes, how it is checked and planned, and how it starts. Immutable; thread-safe.
 */
public final class Operation {
    /** The goals. */
    public enum Kind { REMOVE, SCALE_OUT, REBALANCE, RESTORE, RESUME }

    /**
     * What the operator chose on the pre-check page.
     *
     * @param maxMoves rebalance only: at most this many replica moves (null: as many as help)
     */
    public record Options(boolean balanceLeaders, RemoveServers.Strategy strategy, Integer maxMoves) {
        public static Options defaults() {
            return new Options(true, RemoveServers.Strategy.TABLETOP, null);
        }
    }

    /** The pre-check's outcome: the checks, the plan (null when a check blocks), rows counted, and for a resume what it resumes. */
    /** @param pre the pre-check behind it (null for a resume): its reads may serve the run's first gate */
    public record Prepared(List<CheckResult> checks, Plan plan, Map<String, Long> rows, Runs.Resume resume, RemovalService.PreCheck pre) {
        public Prepared(List<CheckResult> checks, Plan plan, Map<String, Long> rows, Runs.Resume resume) {
            this(checks, plan, rows, resume, null);
        }

        /** What the run needs to know of the pre-check, for a run launched at {@code launchedAt}. */
        public Prelude prelude(Instant launchedAt) {
            return pre == null ? Prelude.launched(launchedAt) : pre.prelude(launchedAt);
        }
    }

    private final Kind kind;
    private final List<ServerId> servers;
    private final String names;
    private final ClusterSnapshot restoreTo;
    private final String restoreWhat;
    private final Runs.RunInfo run;

    private Operation(Kind kind, List<ServerId> servers, String names, ClusterSnapshot restoreTo, String restoreWhat, Runs.RunInfo run) {
        this.kind = kind;
        this.servers = List.copyOf(servers);
        this.names = names;
        this.restoreTo = restoreTo;
        this.restoreWhat = restoreWhat;
        this.run = run;
    }

    /**
     * Take {@code servers} out. {@code names}: what the operator types to confirm, one per server (the id, or
     * the address where the id is a long UUID); the ids are accepted too.
     */
    public static Operation remove(List<ServerId> servers, List<String> names) {
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("select at least one server to remove");
        }
        return new Operation(Kind.REMOVE, servers, String.join(",", names), null, null, null);
    }

    /** Move replicas and leaders onto {@code servers}, new and empty, until the cluster is even. */
    public static Operation scaleOut(List<ServerId> servers, List<String> names) {
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("name at least one new server");
        }
        return new Operation(Kind.SCALE_OUT, servers, String.join(",", names), null, null, null);
    }

    public static Operation rebalance() {
        return new Operation(Kind.REBALANCE, List.of(), "", null, null, null);
    }

    /** Put every replica and leader back as in {@code target} (a run's snapshot before it). */
    public static Operation restore(ClusterSnapshot target, String what) {
        return new Operation(Kind.RESTORE, List.of(), "", Objects.requireNonNull(target), what, null);
    }

    /** Continue an interrupted, failed or cancelled run from its journal. */
    public static Operation resume(Runs.RunInfo run) {
        return new Operation(Kind.RESUME, List.of(), "", null, null, Objects.requireNonNull(run));
    }

    public Kind kind() {
        return kind;
    }

    public List<ServerId> servers() {
        return servers;
    }

    /** The run a resume continues; null for other goals. */
    public Runs.RunInfo run() {
        return run;
    }

    /** For the tab and the pre-check page: "Removal: ts-2", "Scale out: ts-7", "Rebalance". */
    public String title() {
        return switch (kind) {
            case REMOVE -> "Removal: " + names.replace(",", ", ");
            case SCALE_OUT -> "Scale out: " + names.replace(",", ", ");
            case REBALANCE -> "Rebalance";
            case RESTORE -> "Restore";
            case RESUME -> "Resume " + run.record().runId();
        };
    }

    /** What the pre-check page is about: "removing ts-2", "balancing onto ts-7". */
    public String purpose() {
        return switch (kind) {
            case REMOVE -> "removing " + names.replace(",", ", ");
            case SCALE_OUT -> "balancing onto " + names.replace(",", ", ");
            case REBALANCE -> "rebalancing the cluster";
            case RESTORE -> "restoring " + restoreWhat;
            case RESUME -> "resuming run " + run.record().runId() + " (" + run.record().goalSummary() + ")";
        };
    }

    /** The word the operator types before Run is enabled. */
    public String confirmWord() {
        return switch (kind) {
            case REMOVE -> names;
            case SCALE_OUT -> "scale-out";
            case REBALANCE -> "rebalance";
            case RESTORE -> "restore";
            case RESUME -> "resume";
        };
    }

    /** Whether {@code typed} confirms (spaces ignored; a removal also takes the ids). */
    public boolean confirms(String typed) {
        String t = typed == null ? "" : typed.replace(" ", "").strip();
        if (t.equalsIgnoreCase(confirmWord())) {
            return true;
        }
        return kind == Kind.REMOVE && t.equals(String.join(",", servers.stream().map(ServerId::value).toList()));
    }

    public boolean offersBalanceLeaders() {
        return kind == Kind.REMOVE || kind == Kind.SCALE_OUT || kind == Kind.REBALANCE;
    }

    public boolean offersMaxMoves() {
        return kind == Kind.REBALANCE;
    }

    /** Whether the engine's own drain is offered as the strategy. */
    public boolean offersStrategy(ClusterConnector c) {
        return kind == Kind.REMOVE && (c.capabilities().engineDrain() || c.capabilities().failoverFirst());
    }

    /** Whether the servers of this goal end in maintenance when a run stops early (a removal puts them there). */
    public boolean leavesMaintenance() {
        return kind == Kind.REMOVE;
    }

    /** The goal for these options (not for a resume, which plans from the journal). */
    public Goal goal(Options o) {
        return switch (kind) {
            case REMOVE -> new RemoveServers(servers, o.balanceLeaders(), RemoveServers.DEFAULT_FILL_LIMIT, o.strategy());
            case SCALE_OUT -> new ScaleOut(servers, o.balanceLeaders());
            case REBALANCE -> new Rebalance(o.maxMoves() == null ? Integer.MAX_VALUE : o.maxMoves(), o.balanceLeaders());
            case RESTORE -> new Restore(restoreTo, restoreWhat);
            case RESUME -> throw new IllegalStateException("a resume plans from its journal");
        };
    }

    /** Reads the cluster, checks and plans; never throws for a refusal (the checks say why). */
    public Prepared prepare(RemovalService service, ClusterConnector c, Options o) throws ConnectorException {
        return prepare(service, c, o, ClusterConnector.StepProgress.NONE);
    }

    /** As above; a resume's wait for what the stopped run left running in the engine reports to {@code progress}. */
    public Prepared prepare(RemovalService service, ClusterConnector c, Options o, ClusterConnector.StepProgress progress) throws ConnectorException {
        if (kind == Kind.RESUME) {
            Runs.Resume r = service.runs().prepareResume(run, c, progress);
            if (r.blocked() || r.plan() == null) {
                return new Prepared(r.checks(), null, null, r);
            }
            // as before a new run: rows counted now are compared after the resumed run
            RemovalService.RowsBefore rows = RemovalService.countRowsBefore(c);
            List<CheckResult> checks = new java.util.ArrayList<>(r.checks());
            rows.check().ifPresent(checks::add);
            return new Prepared(List.copyOf(checks), r.plan(), rows.rows(), r);
        }
        RemovalService.PreCheck pre = service.preCheck(c, goal(o));
        return new Prepared(pre.checks(), pre.plan(), pre.rows(), null, pre);
    }

    /** Starts the previewed plan: a new journaled run, or the resumed run's next attempt in its own journal. */
    public Runs.Run start(RemovalService service, Prepared p, ClusterConnector c, String connect, ExecutorOptions options,
                          ExecutionListener listener, StepDispatcher dispatcher) throws IOException, FormatException {
        if (kind == Kind.RESUME) {
            return service.runs().resume(p.resume(), c, options, listener, dispatcher);
        }
        return service.runs().start(p.plan(), c, connect, false, options, listener, dispatcher);
    }

    /** The outcome line of a run that succeeded. */
    public String succeeded(String duration) {
        return switch (kind) {
            case REMOVE -> "Done: " + names.replace(",", ", ") + " removed in " + duration + ".";
            case SCALE_OUT -> "Done: replicas and leaders balanced onto " + names.replace(",", ", ") + " in " + duration + ".";
            case REBALANCE -> "Done: the cluster is rebalanced (" + duration + ").";
            case RESTORE -> "Restored: replicas and leaders are back where they were before the run (" + duration + ").";
            case RESUME -> "Done: run " + run.record().runId() + " resumed and finished in " + duration + ".";
        };
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(Locale.ROOT) + " " + title();
    }
}
