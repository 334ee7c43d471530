package io.tabletop.executor;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.planner.Drift;
import io.tabletop.planner.Plan;

import java.util.List;

/**
 * Before each phase (the first included): the live cluster against the plan's snapshot ({@link Drift}). A
 * change that matters for the steps left stops the run before the phase, with the reason (a new preview is
 * needed: the run can be cancelled and re-planned, or resumed from the journal, which re-plans); others are
 * noted in the log. A cluster that cannot be read is logged and does not stop the run. Used by the run's
 * coordinator thread only; it reads the cluster, so the caller does not hold the run's lock.
 */
final class DriftGuard {
    private final Plan plan;
    private final ClusterConnector connector;
    private final ExecutionListener listener;
    private int checkedPhase = -1;

    DriftGuard(Plan plan, ClusterConnector connector, ExecutionListener listener) {
        this.plan = plan;
        this.connector = connector;
        this.listener = listener;
    }

    /** The last phase whose check passed, or -1. */
    int checkedPhase() {
        return checkedPhase;
    }

    /** Phase {@code phase} begins without a look: the plan's own snapshot is seconds old. */
    void skip(int phase) {
        checkedPhase = phase;
    }

    /** Whether phase {@code phase} may begin, given the steps {@code done}; false is logged with the reason. */
    boolean allows(int phase, List<Integer> done) {
        ClusterSnapshot live;
        try {
            live = connector.snapshot();
        } catch (ConnectorException e) {
            listener.log(ExecutionListener.Level.WARN, "Phase " + (phase + 1) + ": cannot read the cluster to compare it with the plan ("
                    + e.getMessage() + "); going on");
            checkedPhase = phase;
            return true;
        }
        Drift.Report r = Drift.compare(plan, live, done);
        if (r.significant()) {
            // This process still runs the run (it holds the run's lock): `tabletop resume` from another shell refuses
            // until it ends, so the words offer what works from here.
            listener.log(ExecutionListener.Level.WARN, "Paused before phase " + (phase + 1) + ": the cluster changed since the plan was made, "
                    + "in ways that matter for the steps left: " + r.summary() + ". Someone else may be moving replicas (another run "
                    + "or an operator): wait for that operation to end, then stop this run (Cancel in the console, Ctrl-C on the "
                    + "command line) and resume it, which plans what is left from the live cluster for you to preview again; or "
                    + "cancel it.");
            return false;
        }
        if (!r.noted().isEmpty()) {
            listener.log(ExecutionListener.Level.INFO, "Phase " + (phase + 1) + ": the cluster changed since the plan in ways that do not matter: "
                    + r.summary());
        }
        checkedPhase = phase;
        return true;
    }
}
