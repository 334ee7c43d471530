package io.tabletop.cli;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Units;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** What the commands that run plans print: checks, each step as it ends, the outcome and the ways forward. */
final class CliOutput {
    private CliOutput() {
    }

    /** Prints the checks; when {@code refused}, fails with the first blocking one. */
    static void printChecks(PrintWriter out, List<CheckResult> checks, boolean refused, String what) throws TabletopCli.UserError {
        for (CheckResult check : checks) {
            out.println(PlanText.check(check));
        }
        if (refused) {
            throw new TabletopCli.UserError(what + ": " + checks.stream().filter(k -> k.verdict() == Verdict.BLOCK)
                    .map(k -> k.name() + ": " + k.message()).findFirst().orElse("a check blocks"));
        }
    }

    /** A progress that prints its message when it changes, at most every two seconds: a long wait before a run. */
    static io.tabletop.connector.ClusterConnector.StepProgress progressLine(PrintWriter out) {
        return new io.tabletop.connector.ClusterConnector.StepProgress() {
            private String last = "";
            private long at;

            @Override
            public synchronized void update(double fraction, String message) {
                long now = System.nanoTime();
                if (message.equals(last) || now - at < 2_000_000_000L) {
                    return;
                }
                last = message;
                at = now;
                out.println((fraction >= 0 ? String.format(Locale.ROOT, "[%3.0f%%] ", fraction * 100) : "") + message);
                out.flush();
            }
        };
    }

    /**
     * One line when a run that will not go on now left the engine's settings changed (OpenMLDB's
     * auto_failover off): what is still changed and the command that puts it back.
     */
    static void settingsLeftChanged(PrintWriter out, io.tabletop.connector.ClusterConnector c, io.tabletop.service.Runs.RunInfo run) {
        java.util.Map<String, String> pending;
        try {
            pending = io.tabletop.store.RunJournal.unrestoredSettings(run.record().dir());
        } catch (java.io.IOException e) {
            return;
        }
        if (pending.isEmpty()) {
            return;
        }
        String how = c.restoreCommand(pending);
        String values = pending.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(java.util.stream.Collectors.joining(", "));
        out.println("Run " + run.record().runId() + " changed engine settings and has not put them back (" + values + " is what to set "
                + "again): a resume that passes its checks puts them back" + (how.isEmpty() ? "" : "; by hand, " + how));
        out.flush();
    }

    /** Prints each step as it ends, actions the operator must take, and warnings. */
    static ExecutionListener printer(PrintWriter out, int total) {
        return new ExecutionListener() {
            private final Set<Integer> told = ConcurrentHashMap.newKeySet();

            @Override
            public void stepStateChanged(Step step, StepState from, StepState to, String message) {
                if (to == StepState.WAITING || (to.isTerminal() && (from != StepState.PENDING || to == StepState.SUCCEEDED))) {
                    synchronized (out) {
                        out.printf(Locale.ROOT, "[%4d/%d] %-9s %s%s%n", step.index() + 1, total, to.name(), step.describe(),
                                message.isEmpty() ? "" : " — " + message);
                        out.flush();
                    }
                }
            }

            @Override
            public void stepProgress(Step step, double fraction, String message) {
                if (step.type() == StepType.STOP_SERVER && fraction < 0 && told.add(step.index())) {
                    synchronized (out) {
                        out.println("ACTION    " + message);
                        out.flush();
                    }
                }
            }

            @Override
            public void concurrencyChanged(int from, int to, String reason) {
                synchronized (out) {
                    out.println("MOVES/SERVER " + from + " → " + to + ": " + reason);
                    out.flush();
                }
            }

            @Override
            public void log(Level level, String message) {
                if (level != Level.INFO) {
                    synchronized (out) {
                        out.println(level + " " + message);
                        out.flush();
                    }
                }
            }
        };
    }

    /** Waits for the run, prints the post-checks and the outcome; a run that did not succeed is an error. */
    static void finish(PrintWriter out, RemovalService service, Plan plan, ClusterConnector c, Runs.Run run,
                       Map<String, Long> rowsBefore) throws Exception {
        RunResult result = run.done().get();
        for (CheckResult check : service.postChecks(plan, c, rowsBefore)) {
            out.println(PlanText.check(check));
        }
        out.printf(Locale.ROOT, "%s in %s: %d of %d steps succeeded%n", result.state(), Units.duration(result.seconds()),
                result.count(StepState.SUCCEEDED), plan.steps().size());
        if (!result.timeline().describe().isEmpty()) {
            out.println("Timeline: " + result.timeline().describe());
        }
        if (result.state() == RunState.SUCCEEDED && run.recordFault() != null) {
            // every step ran, but a record of the run (its end, a settings put-back) could not be written
            out.flush();
            throw new TabletopCli.UserError("run " + run.runId() + " succeeded, but not every record of it was written: " + run.recordFault());
        }
        if (result.state() != RunState.SUCCEEDED) {
            long moved = result.steps().stream().filter(o -> o.state() == StepState.SUCCEEDED
                    && o.step().type() == StepType.MOVE_REPLICA).count();
            long notRun = result.steps().stream().filter(o -> o.state() == StepState.CANCELLED || o.state() == StepState.SKIPPED).count();
            out.printf(Locale.ROOT, "Done: %d replica move(s) of %d; not run: %d step(s). Nothing is lost: every partition keeps its copies.%n",
                    moved, plan.summary().replicaMoves(), notRun);
            out.println("To go on: tabletop resume " + run.runId() + " --yes");
            out.println("To put everything back: tabletop restore " + run.runId() + " (previews; add --yes to run it)");
            out.flush();
            if (run.recordFault() != null) {
                // one line: which record could not be written, and why; nothing started after it
                throw new TabletopCli.UserError("run " + run.runId() + " " + result.state().name().toLowerCase(Locale.ROOT) + ": " + run.recordFault()
                        + "; no step started after it; once the cause is fixed, continue it with: tabletop resume " + run.runId());
            }
            RunResult.StepOutcome first = result.failures().stream().findFirst().orElse(null);
            throw new TabletopCli.UserError("run " + run.runId() + " " + result.state().name().toLowerCase(Locale.ROOT)
                    + (first == null ? "" : ": step " + (first.step().index() + 1) + " " + first.step().describe() + ": " + first.message())
                    + "; continue it with: tabletop resume " + run.runId());
        }
    }
}
