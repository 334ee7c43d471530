package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.PlanExecution;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.planner.Goal;
import io.tabletop.planner.Invariants;
import io.tabletop.planner.Plan;
import io.tabletop.planner.PlanRefusedException;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The removal workflow the console and the command line share: pre-checks (engine health plus the
 * planner's checks) and the plan, the run, and the post-checks. Stateless; thread-safe.
 */
public final class RemovalService {
    private final Planner planner = new Planner();

    /** What the pre-check page shows. {@code plan} is null when a check blocks. */
    public record PreCheck(ClusterSnapshot snapshot, List<CheckResult> checks, Plan plan) {
        public Verdict verdict() {
            return checks.stream().map(CheckResult::verdict).reduce(Verdict.PASS, Verdict::worst);
        }
    }

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
        ClusterSnapshot snapshot = connector.snapshot();
        List<CheckResult> checks = new ArrayList<>();
        checks.add(healthCheck(connector));
        Plan plan = null;
        try {
            plan = planner.plan(snapshot, goal, connector.capabilities());
            checks.addAll(plan.checks());
        } catch (PlanRefusedException e) {
            checks.addAll(e.checks());
        }
        boolean blocked = checks.stream().anyMatch(c -> c.verdict() == Verdict.BLOCK);
        return new PreCheck(snapshot, checks, blocked ? null : plan);
    }

    static CheckResult healthCheck(ClusterConnector connector) {
        try {
            HealthReport h = connector.health();
            String detail = h.details().isEmpty() ? "" : " — " + h.details().stream().limit(3).collect(Collectors.joining("; "))
                    + (h.details().size() > 3 ? "; …" : "");
            return new CheckResult("Cluster health", h.verdict(), h.summary() + detail);
        } catch (ConnectorException e) {
            return CheckResult.block("Cluster health", "cannot check health: " + e.getMessage());
        }
    }

    private final Runs runs = new Runs();

    /** The journaled runs of this process. */
    public Runs runs() {
        return runs;
    }

    public PlanExecution execution(Plan plan, ClusterConnector connector, ExecutorOptions options,
                                   ExecutionListener listener, StepDispatcher dispatcher) {
        return new PlanExecution(plan, connector, options, listener, dispatcher);
    }

    /** After a run: nothing left on the removed servers, every partition whole and led, health, as planned. */
    public List<CheckResult> postChecks(Plan plan, ClusterConnector connector) {
        List<CheckResult> out = new ArrayList<>();
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
        }
        List<String> broken = Invariants.violations(plan.before(), live, removed);
        out.add(broken.isEmpty()
                ? CheckResult.pass("Replicas and leaders", "all " + live.partitions().size()
                + " partitions have their replication factor in voters and one live leader")
                : CheckResult.block("Replicas and leaders", broken.size() + " problem(s): "
                + String.join("; ", broken.subList(0, Math.min(5, broken.size())))));
        out.add(healthCheck(connector));
        long differ = plan.after().partitions().stream().filter(p -> !sameReplicas(p, live)).count();
        boolean engineChose = plan.steps().stream().anyMatch(s -> s.type() == io.tabletop.domain.StepType.ENGINE_REBALANCE);
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

    private static boolean sameReplicas(Partition planned, ClusterSnapshot live) {
        return live.partition(planned.id()).map(p -> Set.copyOf(p.replicas()).equals(Set.copyOf(planned.replicas()))).orElse(false);
    }
}
