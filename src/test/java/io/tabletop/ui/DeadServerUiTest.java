package io.tabletop.ui;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.StepType;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import javafx.embed.swing.SwingFXUtils;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.image.WritableImage;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static io.tabletop.ui.RemovalFlowUiTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A destination dies during a drain on a sandbox that handles it as Kudu does (its copies replaced after
 * 300 s): the run page lists the moves that wait for Kudu, each with a countdown, and offers "Replace dead
 * copies now…"; one confirmation later the dead copies are dropped, rebuilt, and the drain finishes.
 */
@ExtendWith(ApplicationExtension.class)
class DeadServerUiTest {
    private UiFixture ui;

    @Start
    void start(Stage stage) {
        SandboxConnector sandbox = SandboxConnector.manual(SandboxFixtures.kuduBaseline())
                .kuduFailureModel(Duration.ofSeconds(60), Duration.ofSeconds(300));
        ui = UiFixture.open(stage, sandbox, 1400, 950);
        ui.model().refresh();
    }

    @AfterEach
    void stop() {
        ui.close();
    }

    @Test
    @SuppressWarnings("unchecked")
    void movesThatWaitForKuduShowACountdownAndTheDeadCopiesCanBeReplacedNow(FxRobot robot) throws Exception {
        SandboxConnector sandbox = ui.sandbox();
        MainViewModel model = ui.model();
        waitFor(() -> model.servers().size() == 5);
        WaitForAsyncUtils.asyncFx(() -> model.servers().get(1).selectedProperty().set(true)).get();
        robot.clickOn("#remove-selected");
        Button preview = robot.lookup("#preview").queryButton();
        waitFor(() -> !preview.isDisabled());
        robot.clickOn(preview);
        robot.clickOn("#confirm").write("ts-2");
        robot.clickOn("#run");
        OperationViewModel op = ui.view().operation();
        waitFor(() -> {
            sandbox.cluster().clock().advanceBy(200);
            return sandbox.cluster().completedMoves() >= 3;
        });
        // a destination of a move in flight dies (SIGKILL)
        AtomicReference<ServerId> dead = new AtomicReference<>();
        waitFor(() -> {
            op.steps().stream().filter(r -> r.stateProperty().get() == StepState.RUNNING && r.step().type() == StepType.MOVE_REPLICA)
                    .findFirst().ifPresent(r -> dead.set(r.step().to()));
            if (dead.get() == null) {
                sandbox.cluster().clock().advanceBy(100);
            }
            return dead.get() != null;
        });
        long killedAt = sandbox.cluster().clock().nowMillis();
        sandbox.cluster().kill(dead.get());
        ListView<String> waiting = robot.lookup("#waiting").queryAs(ListView.class);
        waitFor(() -> {
            sandbox.cluster().clock().advanceBy(200);
            return waiting.getItems().stream().anyMatch(l -> l.contains("has a copy on dead " + dead.get()) && l.contains(" left · "));
        });
        String line = waiting.getItems().stream().filter(l -> l.contains("has a copy on dead " + dead.get())).findFirst().orElseThrow();
        assertTrue(line.matches("Step \\d+ · Move .* · \\d+m \\d+s left · tablet .*"), "a countdown: " + line);
        assertTrue(line.contains("follower_unavailable_considered_failed_sec = 300 s"), line);
        Button replace = robot.lookup("#replace-dead").queryButton();
        waitFor(replace::isVisible);
        assertTrue(robot.lookup("#progress-text").queryAs(Label.class).getText().contains("waiting for the engine"));
        Node page = robot.lookup("#waiting").query().getScene().getRoot();
        shot(page, "dead-server-waiting");

        robot.clickOn(replace);
        waitFor(() -> robot.lookup("#replace-dead-confirm").tryQuery().isPresent());
        shot(robot.lookup("#replace-dead-confirm").query().getScene().getRoot(), "dead-server-confirm");
        robot.clickOn("Replace now");
        waitFor(() -> op.log().stream().anyMatch(l -> l.contains("Dropped ") && l.contains(dead.get().value())));
        waitFor(() -> {
            sandbox.cluster().clock().advanceBy(200);
            // dropped, and built again: no copy left on the dead server, and every tablet back to its 3 voters
            return sandbox.snapshot().partitions().stream().noneMatch(p -> p.isOn(dead.get()))
                    && sandbox.snapshot().partitions().stream().allMatch(p -> p.voterCount() >= 3);
        });
        long rebuilt = sandbox.cluster().clock().nowMillis() - killedAt;
        assertTrue(rebuilt < 300_000, "the dead copies were replaced " + rebuilt / 1000 + " s after the kill, before Kudu's own 300 s");
        Label state = robot.lookup("#run-state").queryAs(Label.class);
        waitFor(60, () -> {
            sandbox.cluster().clock().advanceBy(1000);
            return state.getText().equals(RunState.SUCCEEDED.name());
        });
        assertTrue(sandbox.snapshot().partitions().stream().noneMatch(p -> p.isOn(ServerId.of("ts-2")) || p.isOn(dead.get())),
                "drained, and no copy left on the dead server");
        assertTrue(op.steps().stream().noneMatch(r -> r.stateProperty().get() == StepState.FAILED), "no step FAILED");
    }

    private static void shot(Node node, String name) throws Exception {
        Path out = Path.of("target", "screenshots");
        Files.createDirectories(out);
        WritableImage img = WaitForAsyncUtils.asyncFx(() -> node.snapshot(null, null)).get();
        ImageIO.write(SwingFXUtils.fromFXImage(img, null), "png", out.resolve(name + ".png").toFile());
    }
}
