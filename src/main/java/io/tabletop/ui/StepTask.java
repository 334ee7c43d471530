package io.tabletop.ui;

import io.tabletop.domain.Step;
import io.tabletop.domain.Units;
import javafx.concurrent.Task;

/** A step as a JavaFX task: the task progress view shows it with its own bar. Built on the FX thread. */
public final class StepTask extends Task<Void> implements TaskRunner.StepHandle {
    private final Step step;
    private final Runnable work;

    StepTask(Step step, Runnable work) {
        this.step = step;
        this.work = work;
        updateTitle((step.index() + 1) + ". " + step.describe());
        updateMessage(step.bytes() > 0 ? Units.bytes(step.bytes()) : step.type().label());
        updateProgress(-1, 1);
    }

    @Override
    public Step step() {
        return step;
    }

    @Override
    public void report(double fraction, String message) {
        updateProgress(fraction, 1);
        updateMessage(message);
    }

    @Override
    protected Void call() {
        work.run();
        return null;
    }
}
