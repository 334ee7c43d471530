package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.StepTruth;
import io.tabletop.planner.Goal;
import io.tabletop.planner.Plan;
import io.tabletop.planner.PlanRefusedException;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.FormatException;
import io.tabletop.store.PlanJson;
import io.tabletop.store.RunJournal;
import io.tabletop.store.RunJournal.RunRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What resuming a run would do: the live cluster once moves cut short have settled (and a tablet left with
 * a voter too many is repaired), the journal's unfinished steps checked against it, and the rest planned
 * again from the live cluster. A damaged journal stops it. Thread-safe (stateless but for its collaborators).
 */
final class ResumePlanner {
    private final Runs runs;
    private final Planner planner = new Planner();

    ResumePlanner(Runs runs) {
        this.runs = runs;
    }

    Runs.Resume prepare(Runs.RunInfo run, ClusterConnector connector) throws ConnectorException {
        return prepare(run, connector, ClusterConnector.StepProgress.NONE);
    }

    Runs.Resume prepare(Runs.RunInfo run, ClusterConnector connector, ClusterConnector.StepProgress progress) throws ConnectorException {
        RunRecord r = run.record();
        List<CheckResult> checks = new ArrayList<>();
        if (!run.resumable()) {
            checks.add(CheckResult.block("Run", "run " + r.runId() + " is " + run.state() + (run.state().equals("RUNNING")
                    ? " in process " + r.pid() : "") + ": nothing to resume"));
            return new Runs.Resume(run, null, checks, null, 0);
        }
        Goal goal;
        try {
            goal = PlanJson.readGoal(r.goal(), r.dir().resolve("journal.jsonl").toString());
        } catch (FormatException e) {
            checks.add(CheckResult.block("Journal", e.getMessage()));
            return new Runs.Resume(run, null, checks, null, 0);
        }
        // What the stopped process left running in the engine (its ops go on without it) is followed to its end
        // first: planning beside it would send a second call for the same partition.
        List<Step> touched = new ArrayList<>();
        for (RunJournal.StepRecord s : r.unfinished()) {
            try {
                Step step = toStep(s);
                if (step != null && step.partition() != null) {
                    touched.add(step);
                }
            } catch (FormatException e) {
                // a damaged line is refused below, where every unfinished step is read
            }
        }
        if (!touched.isEmpty()) {
            try {
                List<String> followed = connector.awaitLeftRunning(touched, progress);
                if (!followed.isEmpty()) {
                    checks.add(CheckResult.pass("Left running", "followed what the stopped run had left running in the engine to its end: "
                            + String.join("; ", followed)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                checks.add(CheckResult.block("Left running", "interrupted while waiting for what the stopped run left running"));
                return new Runs.Resume(run, null, checks, null, 0);
            } catch (ConnectorException e) {
                checks.add(CheckResult.block("Left running", e.getMessage()));
                return new Runs.Resume(run, null, checks, null, 0);
            }
        }
        // Work the engine runs by itself (a Couchbase rebalance) is either the killed run's own, which the
        // resume follows to its end, or someone else's, which it refuses.
        Optional<ClusterConnector.EngineWork> work = connector.engineWork();
        if (work.isPresent()) {
            ClusterSnapshot now = connector.snapshot();
            if (!isTheRunsOwn(work.get(), r, goal, now)) {
                checks.add(CheckResult.block("Engine work", "someone else's " + work.get().describe() + " is running on the cluster: "
                        + "wait for it to end, then resume"));
                return new Runs.Resume(run, now, checks, null, 0);
            }
            connector.adoptEngineWork(work.get());
            checks.add(CheckResult.pass("Engine work", "the run's own " + work.get().describe() + " is still running: the resume "
                    + "follows it to its end and posts nothing new"));
        }
        ClusterSnapshot live = runs.repairedOrAsIs(ClusterSettling.settled(connector), connector, r.runId());
        long building = ClusterSettling.unsettled(live) + ClusterSettling.overReplicated(live);
        if (building > 0) {
            checks.add(CheckResult.block("Moves in progress", building + " partition(s) still have a replica being built or one copy too many "
                    + "(a move cut short by the stop, which the engine finishes by itself); resume again in a minute"));
            return new Runs.Resume(run, live, checks, null, 0);
        }
        if (work.isEmpty()) {
            checks.add(RemovalService.healthCheck(connector)); // with the run's own work running it would block on that work
        }
        long done = r.succeeded();
        List<String> inFlight = new ArrayList<>();
        for (RunJournal.StepRecord s : r.unfinished()) {
            Step step;
            try {
                step = toStep(s);
            } catch (FormatException e) {
                checks.add(CheckResult.block("Journal", e.getMessage() + "; a resume would not know whether it happened. Look at "
                        + r.dir().resolve("journal.jsonl") + " and the cluster, then start a new run"));
                return new Runs.Resume(run, live, checks, null, 0);
            }
            boolean isDone = step != null && StepTruth.isDone(step, live);
            inFlight.add(s.describe() + (isDone ? " (done in the cluster)" : " (not done: planned again)"));
            if (isDone) {
                done++;
            }
        }
        checks.add(CheckResult.pass("Journal", r.succeeded() + " step(s) succeeded before the run stopped"
                + (inFlight.isEmpty() ? "" : "; in flight when it stopped: " + String.join(", ", inFlight))));
        // What is left is planned again from the live cluster: a move that happened is not in it any more.
        if (goal instanceof RemoveServers rs) {
            List<ServerId> left = rs.servers().stream().filter(id -> live.server(id).isPresent()).toList();
            if (left.isEmpty()) {
                checks.add(CheckResult.pass("Servers to remove", "every server of the run is already gone from the cluster: nothing left to do"));
                return new Runs.Resume(run, live, checks, null, done);
            }
            goal = new RemoveServers(left, rs.balanceLeaders(), rs.fillLimit(), rs.strategy());
        }
        Plan plan = null;
        try {
            plan = planner.plan(live, goal, connector.capabilities());
            checks.addAll(plan.checks());
        } catch (PlanRefusedException e) {
            checks.addAll(e.checks());
        }
        boolean blocked = checks.stream().anyMatch(c -> c.verdict() == Verdict.BLOCK);
        return new Runs.Resume(run, live, checks, blocked ? null : plan, done);
    }

    /**
     * Whether the engine's running work is the run's: the journal recorded its id (the engine's answer when
     * the run started it), or it takes out the run's servers that are still members and otherwise only
     * servers that are dead already (Couchbase ejects every failed-over node in any rebalance).
     */
    static boolean isTheRunsOwn(ClusterConnector.EngineWork work, RunRecord r, Goal goal, ClusterSnapshot live) {
        if (work.id().length() >= 8) {
            try {
                if (java.nio.file.Files.readString(r.dir().resolve("journal.jsonl")).contains(work.id())) {
                    return true;
                }
            } catch (java.io.IOException e) {
                // unreadable here: the servers decide
            }
        }
        if (!(goal instanceof RemoveServers rs) || work.removing().isEmpty()) {
            return false;
        }
        java.util.Set<ServerId> left = new java.util.HashSet<>();
        rs.servers().stream().filter(id -> live.server(id).isPresent()).forEach(left::add);
        java.util.Set<ServerId> removing = new java.util.HashSet<>(work.removing());
        return !left.isEmpty() && removing.containsAll(left) && removing.stream().filter(id -> !left.contains(id))
                .allMatch(id -> live.server(id).map(s -> !s.state().isUp()).orElse(true));
    }

    /**
     * The step a journal line describes, enough to ask the cluster whether it is done; null for a health
     * gate (nothing to ask). A line that names no known kind, or lacks what its kind needs, is damage:
     * resuming from it would silently plan the step again, so it is refused with the line's words.
     */
    static Step toStep(RunJournal.StepRecord s) throws FormatException {
        try {
            StepType type = StepType.valueOf(s.kind());
            return switch (type) {
                case MOVE_REPLICA -> Step.move(0, PartitionId.of(s.partition()), null, ServerId.of(s.from()), ServerId.of(s.to()), 0, "");
                case TRANSFER_LEADER -> Step.transfer(0, PartitionId.of(s.partition()), null, ServerId.of(s.from()), ServerId.of(s.to()), "");
                case HEALTH_GATE, ENGINE_REBALANCE -> null;
                default -> Step.server(0, type, ServerId.of(s.server()), "");
            };
        } catch (RuntimeException e) {
            throw new FormatException("the journal's record of step " + (s.index() + 1) + " (attempt " + s.attempt() + ", '"
                    + s.describe() + "', kind '" + s.kind() + "') is damaged: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }
}
