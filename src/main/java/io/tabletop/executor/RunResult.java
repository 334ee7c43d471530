package io.tabletop.executor;

import io.tabletop.domain.Step;

import java.util.List;

/** How a run ended: its state and every step's outcome. */
public record RunResult(RunState state, List<StepOutcome> steps, double seconds) {
    public RunResult {
        steps = List.copyOf(steps);
    }

    public record StepOutcome(Step step, StepState state, String message) {
    }

    public long count(StepState s) {
        return steps.stream().filter(o -> o.state() == s).count();
    }

    public List<StepOutcome> failures() {
        return steps.stream().filter(o -> o.state() == StepState.FAILED).toList();
    }
}
