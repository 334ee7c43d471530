package io.tabletop.planner;

/**
 * Even the cluster out as {@code kudu cluster rebalance} does, with at most {@code maxMoves} replica
 * moves: per-table replica counts first, then totals, then (optionally) leaders by transfers only.
 * Every move lowers the skew; none that does not.
 */
public record Rebalance(int maxMoves, boolean balanceLeaders) implements Goal {
    public Rebalance {
        if (maxMoves < 0) {
            throw new IllegalArgumentException("maxMoves must be >= 0");
        }
    }

    /** No bound on moves, leaders included. */
    public static Rebalance unbounded() {
        return new Rebalance(Integer.MAX_VALUE, true);
    }
}
