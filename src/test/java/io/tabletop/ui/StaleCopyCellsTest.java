package io.tabletop.ui;

import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.TableId;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A copy the engine lists but that does not serve (OpenMLDB's {@code is_alive=false} row) is shown as such,
 * not hidden and not as a follower: the partitions table's "Not serving" column and the placement grid's "s".
 */
class StaleCopyCellsTest {
    private static final ServerId A = ServerId.of("127.0.2.1:10921");
    private static final ServerId B = ServerId.of("127.0.2.2:10921");
    private static final ServerId C = ServerId.of("127.0.2.3:10921");

    private final Partition p = new Partition(PartitionId.of("demo.t/0"), TableId.of("demo.t"), 10L, 1L,
            List.of(new Replica(B, ReplicaRole.LEADER), new Replica(C, ReplicaRole.FOLLOWER), new Replica(A, ReplicaRole.STALE)));

    @Test
    void thePartitionsTableNamesTheStaleCopyApartFromTheFollowers() {
        PartitionRow row = new PartitionRow("demo.t/0");
        row.update(p, "demo.t");
        assertEquals(B.value(), row.leaderProperty().get());
        assertEquals(C.value(), row.followersProperty().get());
        assertEquals(A.value() + " (stale)", row.learnersProperty().get());
    }

    @Test
    void thePlacementGridMarksTheStaleCopy() {
        assertEquals("s", PlacementView.role(p, A));
        assertEquals("L", PlacementView.role(p, B));
        assertEquals("F", PlacementView.role(p, C));
        assertEquals(1, p.followers().size(), "a stale copy is not a follower");
        assertEquals(2, p.voterCount(), "nor a voter");
    }
}
