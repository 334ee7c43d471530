package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.PlanExecution;
import io.tabletop.executor.Prelude;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.planner.BucketForecast;
import io.tabletop.planner.Goal;
import io.tabletop.planner.Invariants;
import io.tabletop.planner.Plan;
import io.tabletop.planner.PlanRefusedException;
import io.tabletop.planner.Planner;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;

/**
 * The removal workflow the console and the command line share: pre-checks (engine health plus the
 * planner's checks) and the plan, the run, and the post-checks. Stateless; thread-safe.
 */
public final class RemovalService {
    private final Planner planner = new Planner();

    /**
     * What the pre-check page shows. {@code plan} is null when a check blocks; {@code rows} are the rows per
     * table as the engine counted them, null where it cannot count.
     */
    public record PreCheck(ClusterSnapshot snapshot, List<CheckResult> checks, Plan plan, Map<String, Long> rows,
                           HealthReport health, Instant readAt, CompletableFuture<Map<String, Long>> counting) {
        public PreCheck(ClusterSnapshot snapshot, List<CheckResult> checks, Plan plan, Map<String, Long> rows) {
            this(snapshot, checks, plan, rows, null, null, CompletableFuture.completedFuture(rows));
        }

        /** The rows as counted before the run (null where they could not be), once the count is in. */
        public Map<String, Long> rowsBefore() {
            try {
                return counting.join();
            } catch (CompletionException e) {
                return null;
            }
        }

        public Verdict verdict() {
            return checks.stream().map(CheckResult::verdict).reduce(Verdict.PASS, Verdict::worst);
        }

        /**
         * What the run needs to know of this pre-check, for a run launched at {@code launchedAt}: no replica
         * moves before the rows are counted.
         */
        public Prelude prelude(Instant launchedAt) {
            return new Prelude(launchedAt, readAt, health, counting.handle((r, e) -> null));
        }
    }

    /** How old the health verdict read with the snapshot may be, for the pre-check (Kudu: the same ksck). */
    static final Duration SAME_READ = Duration.ofSeconds(3);

    /** Resolves names (ids or addresses) to server ids; an unknown name is an error naming the known ones. */
    public static List<ServerId> resolve(ClusterSnapshot snapshot, List<String> names) {
        Set<ServerId> out = new LinkedHashSet<>();
        for (String raw : names) {
            String n = raw.trim();
            if (n.isEmpty()) {
                continue;
            }
            out.add(snapshot.findServer(n).orElseThrow(() -> new IllegalArgumentException("unknown server '" + n
                    + "' (known: " + snapshot.servers().stream().map(s -> s.id().value()).collect(Collectors.joining(", ")) + ")")).id());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("name at least one server to remove");
        }
        return List.copyOf(out);
    }

    /** Reads the cluster and its health, and plans; never throws for a refusal (the checks say why). */
    public PreCheck preCheck(ClusterConnector connector, Goal goal) throws ConnectorException {
        Instant readAt = Instant.now();
        return preCheck(connector, connector.snapshot(), readAt, goal);
    }

    /**
     * As {@link #preCheck(ClusterConnector, Goal)}, on a snapshot the caller has just read at {@code readAt}
     * (to name the servers of the goal): nothing is read twice. The engine's health comes with the snapshot's
     * own read where the engine made one (Kudu: ksck), and rows are counted while the plan is made.
     */
    public PreCheck preCheck(ClusterConnector connector, ClusterSnapshot snapshot, Instant readAt, Goal goal) {
        boolean fresh = Prelude.fresh(readAt, Instant.now());
        return preCheck(connector, snapshot, readAt, goal, countRows(connector, fresh ? snapshot : null), true);
    }

    /**
     * Starts counting rows (a scan per table, where the engine can count) on a thread of its own: the tables
     * of {@code justRead}, a snapshot the connector has just read, else (null) the tables the engine lists now.
     */
    public static CompletableFuture<Map<String, Long>> countRows(ClusterConnector connector, ClusterSnapshot justRead) {
        CompletableFuture<Map<String, Long>> counting = new CompletableFuture<>();
        Thread counter = new Thread(() -> {
            try {
                counting.complete((justRead == null ? connector.rowCounts() : connector.rowCounts(justRead)).orElse(null));
            } catch (ConnectorException | RuntimeException e) {
                counting.completeExceptionally(e);
            }
        }, "tabletop-row-count");
        counter.setDaemon(true);
        counter.start();
        return counting;
    }

    /**
     * As above, with the rows being counted by {@link #countRows}. With {@code awaitRows}, the count is in the
     * checks; without, it goes on after the pre-check ({@link #rowCheck} says how it ended), and a run started
     * with this pre-check's {@link PreCheck#prelude} moves no replica before it is in: the command line's run
     * starts while tables are scanned.
     */
    public PreCheck preCheck(ClusterConnector connector, ClusterSnapshot snapshot, Instant readAt, Goal goal,
                             CompletableFuture<Map<String, Long>> counting, boolean awaitRows) {
        if (!connector.readOnly()) {
            connector.prepareSteps(); // a run may follow: its first step need not wait for what can be made now
        }
        List<CheckResult> checks = new ArrayList<>();
        HealthReport[] health = new HealthReport[1];
        checks.add(healthCheck(connector, SAME_READ, health));
        if (!connector.readOnly()) {
            checks.addAll(runs.otherOperations(connector, snapshot)); // a run from this machine, or the engine's own work
        }
        Plan plan = null;
        java.util.Optional<CheckResult> leaderless = Planner.leaderless(snapshot);
        leaderless.ifPresent(checks::add);
        try {
            if (leaderless.isEmpty()) {
                plan = planner.plan(snapshot, goal, connector.capabilities());
                checks.addAll(plan.checks());
            }
        } catch (PlanRefusedException e) {
            checks.addAll(e.checks());
        } catch (IllegalStateException e) {
            // the planner's own safety net tripped on this snapshot (e.g. another operation's move in flight has a
            // copy arriving on a server to remove): no plan, said as a check rather than an unexpected error
            checks.add(CheckResult.block("Plan", "no safe plan from the cluster as read now: " + e.getMessage()));
        }
        if (plan != null) {
            try {
                checks.addAll(connector.engineChecks(plan.after(), plan.removedServers()));
            } catch (ConnectorException e) {
                checks.add(CheckResult.warn("Engine checks", "cannot make the engine's own checks: " + e.getMessage()));
            }
            checks.addAll(stepRisks(connector, plan));
        }
        Map<String, Long> rows = null;
        if (awaitRows) {
            Optional<CheckResult> rc = rowCheck(counting);
            rc.ifPresent(c -> checks.add(1, c));
            rows = counting.isCompletedExceptionally() ? null : counting.join();
        }
        boolean blocked = checks.stream().anyMatch(c -> c.verdict() == Verdict.BLOCK);
        return new PreCheck(snapshot, checks, blocked ? null : plan, rows, health[0], readAt, counting);
    }

    /** One WARN per kind of step in the plan whose risk the engine states ({@link ClusterConnector#stepRisk}), with the count. */
    static List<CheckResult> stepRisks(ClusterConnector connector, Plan plan) {
        Map<io.tabletop.domain.StepType, Long> kinds = new java.util.EnumMap<>(io.tabletop.domain.StepType.class);
        plan.steps().forEach(s -> kinds.merge(s.type(), 1L, Long::sum));
        List<CheckResult> out = new ArrayList<>();
        kinds.forEach((type, n) -> {
            String risk = connector.stepRisk(type);
            if (!risk.isEmpty()) {
                out.add(CheckResult.warn(type.label() + " risk", n + " step(s): " + risk));
            }
        });
        return out;
    }

    /**
     * Rows counted before a run that was not pre-checked as a new one (a resume): the check that says so, and
     * the counts its post-checks compare against ({@code rows} null where the engine cannot count, or failed to).
     */
    public record RowsBefore(Optional<CheckResult> check, Map<String, Long> rows) {
    }

    /** Counts the rows now, as {@link #preCheck} does before a run, and waits for the count. */
    public static RowsBefore countRowsBefore(ClusterConnector connector) {
        CompletableFuture<Map<String, Long>> counting = countRows(connector, null);
        Optional<CheckResult> check = rowCheck(counting);
        return new RowsBefore(check, counting.isCompletedExceptionally() ? null : counting.join());
    }

    /** The row-count check once the count is in (it waits for it); empty where the engine cannot count. */
    public static Optional<CheckResult> rowCheck(CompletableFuture<Map<String, Long>> counting) {
        try {
            Map<String, Long> rows = counting.join();
            return rows == null ? Optional.empty()
                    : Optional.of(CheckResult.pass("Row counts", total(rows) + " rows in " + rows.size() + " table(s), to compare after the run"));
        } catch (CompletionException e) {
            String why = e.getCause() instanceof ConnectorException ce ? ce.getMessage() : String.valueOf(e.getCause());
            return Optional.of(CheckResult.warn("Row counts", "cannot count rows before the run, so none are compared after it: " + why));
        }
    }

    static CheckResult healthCheck(ClusterConnector connector) {
        return healthCheck(connector, Duration.ZERO, new HealthReport[1]);
    }

    /** The health check; the verdict (may be {@code maxAge} old) is also left in {@code verdict[0]}. */
    static CheckResult healthCheck(ClusterConnector connector, Duration maxAge, HealthReport[] verdict) {
        try {
            HealthReport h = maxAge.isZero() ? connector.health() : connector.health(maxAge);
            verdict[0] = h;
            String detail = h.details().isEmpty() ? "" : " — " + h.details().stream().limit(3).collect(Collectors.joining("; "))
                    + (h.details().size() > 3 ? "; …" : "");
            return new CheckResult("Cluster health", h.verdict(), h.summary() + detail);
        } catch (ConnectorException e) {
            return CheckResult.block("Cluster health", "cannot check health: " + e.getMessage());
        }
    }

    private final Runs runs;

    public RemovalService() {
        this(new Runs());
    }

    /** With the runs (their journals and locks) in {@code runs}' directories (tests). */
    public RemovalService(Runs runs) {
        this.runs = runs;
    }

    /** The journaled runs of this process. */
    public Runs runs() {
        return runs;
    }

    public PlanExecution execution(Plan plan, ClusterConnector connector, ExecutorOptions options,
                                   ExecutionListener listener, StepDispatcher dispatcher) {
        return new PlanExecution(plan, connector, options, listener, dispatcher);
    }

    private static long total(Map<String, Long> rows) {
        return rows.values().stream().mapToLong(Long::longValue).sum();
    }

    /** After a run whose rows were not counted before it: as below, without the row comparison. */
    public List<CheckResult> postChecks(Plan plan, ClusterConnector connector) {
        return postChecks(plan, connector, null);
    }

    /**
     * After a run: nothing left on the removed servers, every partition whole and led, health, as planned,
     * and, where the engine counts rows and they were counted before ({@code rowsBefore}), the same rows.
     */
    public List<CheckResult> postChecks(Plan plan, ClusterConnector connector, Map<String, Long> rowsBefore) {
        List<CheckResult> out = new ArrayList<>();
        if (rowsBefore != null) {
            out.add(rowCheck(connector, rowsBefore));
        }
        ClusterSnapshot live;
        try {
            live = connector.snapshot();
        } catch (ConnectorException e) {
            out.add(CheckResult.block("Read cluster", e.getMessage()));
            return out;
        }
        List<ServerId> removed = plan.removedServers();
        long left = live.partitions().stream().filter(p -> removed.stream().anyMatch(p::isOn)).count();
        if (!removed.isEmpty()) {
            out.add(left == 0
                    ? CheckResult.pass("Removed servers empty", "no replica left on " + removed.stream().map(ServerId::value).collect(Collectors.joining(", "))
                    + (removed.stream().allMatch(id -> live.server(id).isEmpty()) ? "; unregistered" : ""))
                    : CheckResult.block("Removed servers empty", left + " partition(s) still have a replica on a removed server"));
            try {
                out.addAll(connector.engineChecksAfter(removed));
            } catch (ConnectorException e) {
                out.add(CheckResult.warn("Engine checks", e.getMessage()));
            }
        }
        if (!plan.forecast().isEmpty()) {
            out.addAll(forecastChecks(plan, live));
            out.add(healthCheck(connector));
            return out;
        }
        List<String> broken = Invariants.violations(plan.before(), live, removed);
        out.add(broken.isEmpty()
                ? CheckResult.pass("Replicas and leaders", "all " + live.partitions().size()
                + " partitions have their replication factor in voters and one live leader")
                : CheckResult.block("Replicas and leaders", broken.size() + " problem(s): "
                + String.join("; ", broken.subList(0, Math.min(5, broken.size())))));
        out.add(healthCheck(connector));
        long differ = plan.after().partitions().stream().filter(p -> !sameReplicas(p, live)).count();
        boolean engineChose = plan.steps().stream().anyMatch(s -> s.type() == StepType.ENGINE_REBALANCE);
        if (engineChose) {
            out.add(CheckResult.pass("Placement", "the engine's rebalancer chose the destinations; "
                    + (plan.after().partitions().size() - differ) + " of " + plan.after().partitions().size()
                    + " partitions are where Tabletop predicted"));
            return out;
        }
        out.add(differ == 0
                ? CheckResult.pass("Placement as planned", "every partition is where the plan said")
                : CheckResult.warn("Placement as planned", differ + " partition(s) differ from the plan (the cluster moved them, or a step did not run)"));
        return out;
    }

    /**
     * After an engine's own rebalance (Couchbase): every vBucket has its active copy, each bucket keeps the
     * replicas the forecast said it would, and the forecast beside the real map, node by node (the forecast
     * is a prediction of the engine's choices: a difference is reported, not a failure).
     */
    static List<CheckResult> forecastChecks(Plan plan, ClusterSnapshot live) {
        List<CheckResult> out = new ArrayList<>();
        List<String> noActive = new ArrayList<>();
        List<String> fewer = new ArrayList<>();
        List<String> sideBySide = new ArrayList<>();
        for (BucketForecast f : plan.forecast()) {
            List<Partition> vbs = live.partitions().stream().filter(p -> p.table().equals(f.bucket())).toList();
            long headless = vbs.stream().filter(p -> p.leader().isEmpty()).count();
            if (headless > 0) {
                noActive.add(f.name() + ": " + headless + " vBucket(s)");
            }
            long short_ = vbs.stream().filter(p -> p.replicas().size() - 1 < f.replicasKept()).count();
            if (short_ > 0) {
                fewer.add(f.name() + ": " + short_ + " vBucket(s) with fewer than " + f.replicasKept() + " replica(s)");
            }
            Map<ServerId, int[]> real = new java.util.TreeMap<>();
            for (Partition p : vbs) {
                for (Replica r : p.replicas()) {
                    real.computeIfAbsent(r.server(), k -> new int[2])[r.role() == ReplicaRole.LEADER ? 0 : 1]++;
                }
            }
            List<String> nodes = new ArrayList<>();
            for (BucketForecast.Node n : f.nodes()) {
                if (n.leaves()) {
                    continue;
                }
                int[] r = real.getOrDefault(n.server(), new int[2]);
                nodes.add(n.server() + " " + n.activeAfter() + "/" + n.replicasAfter() + " → " + r[0] + "/" + r[1]);
            }
            sideBySide.add(f.name() + " (actives/replicas, forecast → real): " + String.join(", ", nodes));
        }
        out.add(noActive.isEmpty()
                ? CheckResult.pass("Actives", "every vBucket of every bucket has its active copy")
                : CheckResult.block("Actives", "vBuckets without an active copy: " + String.join("; ", noActive)));
        out.add(fewer.isEmpty()
                ? CheckResult.pass("Replicas kept", "each bucket keeps the replicas forecast ("
                + plan.forecast().stream().map(f -> f.name() + ": " + f.replicasKept()).collect(Collectors.joining(", ")) + ")")
                : CheckResult.warn("Replicas kept", String.join("; ", fewer)));
        out.add(CheckResult.pass("Forecast and result", String.join("; ", sideBySide)));
        return out;
    }

    private static CheckResult rowCheck(ClusterConnector connector, Map<String, Long> before) {
        try {
            Map<String, Long> after = connector.rowCounts().orElse(null);
            if (after == null) {
                return CheckResult.warn("Row counts", "the engine cannot count rows now");
            }
            List<String> differ = new ArrayList<>();
            for (String t : new TreeSet<>(before.keySet())) {
                if (!before.get(t).equals(after.get(t))) {
                    differ.add(t + ": " + before.get(t) + " before, " + (after.containsKey(t) ? after.get(t) : "no table") + " after");
                }
            }
            return differ.isEmpty()
                    ? CheckResult.pass("Row counts", "the same " + total(before) + " rows in " + before.size() + " table(s) as before the run")
                    : CheckResult.block("Row counts", String.join("; ", differ) + " (writes during the run change counts too)");
        } catch (ConnectorException e) {
            return CheckResult.warn("Row counts", "cannot count rows after the run: " + e.getMessage());
        }
    }

    private static boolean sameReplicas(Partition planned, ClusterSnapshot live) {
        return live.partition(planned.id()).map(p -> Set.copyOf(p.replicas()).equals(Set.copyOf(planned.replicas()))).orElse(false);
    }
}
