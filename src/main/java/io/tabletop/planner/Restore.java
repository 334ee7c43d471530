package io.tabletop.planner;

import io.tabletop.domain.ClusterSnapshot;

import java.util.Objects;

/**
 * Put replicas and leaders back where they were in {@code target} (the snapshot a run started from):
 * the reverse plan after a cancelled or failed run, previewed like any other.
 *
 * @param label what the target is, for people ("the placement before run 20261122-0746")
 */
public record Restore(ClusterSnapshot target, String label) implements Goal {
    public Restore {
        Objects.requireNonNull(target, "target");
        label = label == null ? "the original placement" : label;
    }
}
