package io.tabletop.planner;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;

import java.util.List;

/** The random clusters of {@link PlannerPropertiesTest}, for tests in other packages. */
public final class PlannerPropertiesTestAccess {
    private PlannerPropertiesTestAccess() {
    }

    public record Generated(ClusterSnapshot cluster, List<ServerId> remove) {
    }

    public static Generated generate(long seed) {
        PlannerPropertiesTest.Case c = PlannerPropertiesTest.generate(seed);
        return new Generated(c.cluster(), c.remove());
    }
}
