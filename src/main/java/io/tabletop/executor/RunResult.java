package io.tabletop.executor;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Step;

import java.util.List;

/** How a run ended: its state and every step's outcome. */
public record RunResult(RunState state, List<StepOutcome> steps, double seconds) {
    public RunResult {
        steps = List.copyOf(steps);
    }

    /** @param failure what kind of failure ended a FAILED step (null otherwise, or when it was not the connector's) */
    public record StepOutcome(Step step, StepState state, String message, ConnectorException.Kind failure) {
        public StepOutcome(Step step, StepState state, String message) {
            this(step, state, message, null);
        }
    }

    public long count(StepState s) {
        return steps.stream().filter(o -> o.state() == s).count();
    }

    public List<StepOutcome> failures() {
        return steps.stream().filter(o -> o.state() == StepState.FAILED).toList();
    }
}
