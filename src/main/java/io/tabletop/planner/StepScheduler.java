package io.tabletop.planner;

import io.tabletop.domain.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides which steps of a plan start next: in plan order, never past a barrier that has not finished,
 * within {@link ConcurrencyRules}. Shared by the {@link Estimator} and the executor so that the estimate
 * describes the run. Not thread-safe: one owner.
 */
public final class StepScheduler {
    private final List<Step> steps;
    private final ConcurrencyRules rules;
    private final boolean[] started;
    private int firstNotStarted;
    private boolean holdBarriers;

    public StepScheduler(List<Step> steps, int maxPerServer) {
        this.steps = List.copyOf(steps);
        this.rules = new ConcurrencyRules(maxPerServer);
        this.started = new boolean[steps.size()];
    }

    /** Marks a step as started without running it (done already, or cancelled). */
    public void skip(int index) {
        started[index] = true;
        advance();
    }

    /** Steps that may start now, marked as started. Empty when everything waits. */
    public List<Step> next() {
        List<Step> out = new ArrayList<>();
        for (int i = firstNotStarted; i < steps.size(); i++) {
            if (started[i]) {
                continue;
            }
            Step s = steps.get(i);
            if (s.type().isBarrier()) {
                if (!holdBarriers && i == firstNotStarted && rules.canStart(s)) {
                    start(i, s, out);
                }
                break;
            }
            if (rules.canStart(s)) {
                start(i, s, out);
            }
        }
        return out;
    }

    private void start(int i, Step s, List<Step> out) {
        rules.started(s);
        started[i] = true;
        out.add(s);
        advance();
    }

    private void advance() {
        while (firstNotStarted < steps.size() && started[firstNotStarted]) {
            firstNotStarted++;
        }
    }

    public void finished(Step s) {
        rules.finished(s);
    }

    /** After a failure: steps already free to run may finish, but no barrier starts. */
    public void holdBarriers() {
        holdBarriers = true;
    }

    public boolean allStarted() {
        return firstNotStarted == steps.size();
    }

    public int inFlight() {
        return rules.inFlight();
    }

    /** Indexes of steps not started yet. */
    public List<Integer> notStarted() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            if (!started[i]) {
                out.add(i);
            }
        }
        return out;
    }
}
