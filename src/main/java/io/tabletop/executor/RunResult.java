package io.tabletop.executor;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Step;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How a run ended: its state, every step's outcome, and when its parts happened.
 *
 * @param replan for a REPLANNING end: why, and the servers found dead (no step of the next plan goes to them)
 */
public record RunResult(RunState state, List<StepOutcome> steps, double seconds, Timeline timeline, Replan replan) {
    public RunResult {
        steps = List.copyOf(steps);
        timeline = timeline == null ? Timeline.NONE : timeline;
    }

    public RunResult(RunState state, List<StepOutcome> steps, double seconds, Timeline timeline) {
        this(state, steps, seconds, timeline, null);
    }

    /**
     * Why an attempt ended for a re-plan.
     *
     * @param dead servers that stopped answering, with the clock millis (the run's clock) since when
     */
    public record Replan(String why, java.util.Map<io.tabletop.domain.ServerId, Long> dead) {
        public Replan {
            dead = java.util.Map.copyOf(dead);
        }
    }

    public RunResult(RunState state, List<StepOutcome> steps, double seconds) {
        this(state, steps, seconds, Timeline.NONE);
    }

    /** @param failure what kind of failure ended a FAILED step (null otherwise, or when it was not the connector's) */
    public record StepOutcome(Step step, StepState state, String message, ConnectorException.Kind failure) {
        public StepOutcome(Step step, StepState state, String message) {
            this(step, state, message, null);
        }
    }

    /**
     * Seconds from the operator's launch (the command's start, or Run in the console) to the first step's
     * start, the first replica move's start, the last replica move's end, and the run's end; NaN for what
     * did not happen.
     */
    public record Timeline(double firstStep, double firstMove, double lastMoveEnd, double end) {
        public static final Timeline NONE = new Timeline(Double.NaN, Double.NaN, Double.NaN, Double.NaN);

        /** "first step 0.9 s after launch, first move 1.3 s, last move ended 19.8 s, end 24.1 s" */
        public String describe() {
            List<String> out = new ArrayList<>();
            if (!Double.isNaN(firstStep)) {
                out.add(String.format(Locale.ROOT, "first step %.1f s after launch", firstStep));
            }
            if (!Double.isNaN(firstMove)) {
                out.add(String.format(Locale.ROOT, "first move %.1f s", firstMove));
            }
            if (!Double.isNaN(lastMoveEnd)) {
                out.add(String.format(Locale.ROOT, "last move ended %.1f s", lastMoveEnd));
            }
            if (!Double.isNaN(end)) {
                out.add(String.format(Locale.ROOT, "end %.1f s", end));
            }
            return String.join(", ", out);
        }
    }

    public long count(StepState s) {
        return steps.stream().filter(o -> o.state() == s).count();
    }

    public List<StepOutcome> failures() {
        return steps.stream().filter(o -> o.state() == StepState.FAILED).toList();
    }
}
