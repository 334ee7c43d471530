package io.tabletop.ui;

import io.tabletop.domain.Step;
import io.tabletop.executor.StepState;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

/** One step in the preview and run tables. */
public final class StepRow {
    private final Step step;
    private final ObjectProperty<StepState> state = new SimpleObjectProperty<>(StepState.PENDING);
    private final StringProperty message = new SimpleStringProperty("");

    public StepRow(Step step) {
        this.step = step;
    }

    public Step step() {
        return step;
    }

    public ObjectProperty<StepState> stateProperty() {
        return state;
    }

    public StringProperty messageProperty() {
        return message;
    }
}
