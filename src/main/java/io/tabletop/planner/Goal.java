package io.tabletop.planner;

/** What the operator wants the cluster to become. */
public sealed interface Goal permits RemoveServers, Rebalance, ScaleOut, Restore {
}
