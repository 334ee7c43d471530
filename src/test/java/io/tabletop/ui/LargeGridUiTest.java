package io.tabletop.ui;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import javafx.scene.control.Label;
import javafx.scene.control.TableView;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

import static io.tabletop.ui.RemovalFlowUiTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The placement grid with 100,000 partitions: rows are virtualised, so the grid holds cells for what
 * fits on screen, not for every partition; scrolling to the last row shows it. A structural check of
 * responsiveness, not a timing.
 */
@ExtendWith(ApplicationExtension.class)
class LargeGridUiTest {
    private UiFixture ui;
    private ClusterSnapshot cluster;

    @Start
    void start(Stage stage) {
        cluster = SandboxFixtures.build("large", 20, 0, new String[]{"a", "b", "c", "d"}, new int[]{25_000, 25_000, 25_000, 25_000},
                3, 0, 7);
        ui = UiFixture.open(stage, SandboxConnector.manual(cluster), 1400, 900);
        ui.model().refresh();
    }

    @AfterEach
    void stop() {
        ui.close();
    }

    @Test
    void aHundredThousandPartitionsStayVirtualised(FxRobot robot) throws Exception {
        robot.clickOn("Placement");
        @SuppressWarnings("unchecked")
        TableView<PartitionRow> grid = robot.lookup("#placement-grid").queryAs(TableView.class);
        waitFor(60, () -> grid.getItems().size() == 100_000);
        WaitForAsyncUtils.waitForFxEvents();
        int cells = robot.lookup(".placement-cell").queryAll().size();
        assertTrue(cells > 0 && cells < 20 * 60, cells + " grid cells for 100,000 partitions x 20 servers");
        WaitForAsyncUtils.asyncFx(() -> grid.scrollTo(99_999)).get();
        WaitForAsyncUtils.waitForFxEvents();
        String last = grid.getItems().get(99_999).id();
        assertTrue(robot.lookup(".table-row-cell").queryAll().stream()
                .anyMatch(n -> n instanceof javafx.scene.control.TableRow<?> r && r.getItem() instanceof PartitionRow p && p.id().equals(last)),
                "the last row is shown after scrolling");
        assertTrue(robot.lookup(".placement-cell").queryAll().size() < 20 * 60, "still only what fits on screen");
        assertEquals(20 * 4, robot.lookup(".heat-cell").queryAll().size(), "one heatmap cell per server and table");
        assertTrue(robot.lookup(".heat-cell").queryAll().stream().allMatch(n -> ((Label) n).getText().contains(" / ")));
    }
}
