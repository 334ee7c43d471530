package io.tabletop.executor;

import io.tabletop.domain.Step;

/**
 * Where a step's work runs. The default is a pool of named daemon threads owned by the run; the console
 * wraps each step in a {@code javafx.concurrent.Task} instead, so it shows in the task progress view.
 * The work never throws.
 */
@FunctionalInterface
public interface StepDispatcher {
    void dispatch(Step step, Runnable work);
}
