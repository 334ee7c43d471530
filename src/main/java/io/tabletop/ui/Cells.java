package io.tabletop.ui;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Units;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.StepState;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.TableCell;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;

/** Table and list cells shared by the views. */
final class Cells {
    private Cells() {
    }

    /** Server state as a coloured badge with an icon (shape as well as colour). */
    static <S> TableCell<S, ServerState> stateBadge() {
        return new TableCell<>() {
            private final Label badge = new Label();

            {
                badge.getStyleClass().add(Styles.BADGE);
            }

            @Override
            protected void updateItem(ServerState s, boolean empty) {
                super.updateItem(s, empty);
                if (empty || s == null) {
                    setGraphic(null);
                    return;
                }
                badge.setText(s.name());
                badge.setGraphic(Icons.view(switch (s) {
                    case LIVE -> "state-live";
                    case MAINTENANCE -> "state-maintenance";
                    case DEAD -> "state-dead";
                }));
                badge.pseudoClassStateChanged(Styles.LIVE, s == ServerState.LIVE);
                badge.pseudoClassStateChanged(Styles.MAINTENANCE, s == ServerState.MAINTENANCE);
                badge.pseudoClassStateChanged(Styles.DEAD, s == ServerState.DEAD);
                setGraphic(badge);
            }
        };
    }

    static <S> TableCell<S, Number> bytes() {
        return new TableCell<>() {
            @Override
            protected void updateItem(Number n, boolean empty) {
                super.updateItem(n, empty);
                setText(empty || n == null ? null : Units.bytes(n.longValue()));
            }
        };
    }

    /** Bytes, blank for zero (steps that copy nothing). */
    static <S> TableCell<S, Number> bytesOrBlank() {
        return new TableCell<>() {
            @Override
            protected void updateItem(Number n, boolean empty) {
                super.updateItem(n, empty);
                setText(empty || n == null || n.longValue() == 0 ? null : Units.bytes(n.longValue()));
            }
        };
    }

    static <S> TableCell<S, Long> bytesOrUnknown() {
        return new TableCell<>() {
            @Override
            protected void updateItem(Long n, boolean empty) {
                super.updateItem(n, empty);
                setText(empty ? null : Units.bytesOrUnknown(n));
            }
        };
    }

    static <S> TableCell<S, Long> heartbeat() {
        return new TableCell<>() {
            @Override
            protected void updateItem(Long n, boolean empty) {
                super.updateItem(n, empty);
                setText(empty || n == null ? (empty ? null : "—") : n < 1000 ? "< 1 s" : Units.duration(n / 1000.0));
            }
        };
    }

    /** The leader: a crown mark and bold accent text, so it is unmistakable without colour. */
    static <S> TableCell<S, String> leader() {
        return new TableCell<>() {
            {
                getStyleClass().add(Styles.LEADER_CELL);
            }

            @Override
            protected void updateItem(String s, boolean empty) {
                super.updateItem(s, empty);
                setText(empty || s == null ? null : s.isEmpty() ? "— none —" : "♛ " + s);
            }
        };
    }

    static <S> TableCell<S, StepState> stepState() {
        return new TableCell<>() {
            @Override
            protected void updateItem(StepState s, boolean empty) {
                super.updateItem(s, empty);
                if (empty || s == null) {
                    setGraphic(null);
                    setText(null);
                    return;
                }
                setGraphic(Icons.view(stepIcon(s)));
                setText(s.name().charAt(0) + s.name().substring(1).toLowerCase().replace('_', ' '));
            }
        };
    }

    static String stepIcon(StepState s) {
        return switch (s) {
            case PENDING -> "step-pending";
            case RUNNING -> "step-running";
            case RETRY_WAIT -> "step-retry";
            case SUCCEEDED -> "step-succeeded";
            case FAILED -> "step-failed";
            case CANCELLED -> "step-cancelled";
            case SKIPPED -> "step-skipped";
            case WAITING -> "step-waiting";
            case REPLANNED -> "step-replanned";
        };
    }

    /** A check: icon, name in bold, and the reason, wrapped. */
    static ListCell<CheckResult> check() {
        return new ListCell<>() {
            private final Label name = new Label();
            private final Label message = new Label();
            private final HBox box;

            {
                name.getStyleClass().add("check-name");
                message.setWrapText(true);
                message.getStyleClass().add(Styles.MUTED);
                VBox text = new VBox(2, name, message);
                HBox.setHgrow(text, Priority.ALWAYS);
                box = new HBox(10);
                box.getChildren().add(text);
                box.getStyleClass().add(Styles.CHECK_ROW);
                setPrefWidth(0);
            }

            @Override
            protected void updateItem(CheckResult c, boolean empty) {
                super.updateItem(c, empty);
                if (empty || c == null) {
                    setGraphic(null);
                    return;
                }
                name.setText(c.verdict() + " · " + c.name());
                message.setText(c.message());
                if (box.getChildren().size() > 1) {
                    box.getChildren().remove(0);
                }
                box.getChildren().add(0, Icons.view(switch (c.verdict()) {
                    case PASS -> "check-pass";
                    case WARN -> "check-warn";
                    case BLOCK -> "check-block";
                }));
                box.pseudoClassStateChanged(Styles.PASS, c.verdict() == Verdict.PASS);
                box.pseudoClassStateChanged(Styles.WARN, c.verdict() == Verdict.WARN);
                box.pseudoClassStateChanged(Styles.BLOCK, c.verdict() == Verdict.BLOCK);
                setGraphic(box);
            }
        };
    }
}
