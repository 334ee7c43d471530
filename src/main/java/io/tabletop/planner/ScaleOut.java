package io.tabletop.planner;

import io.tabletop.domain.ServerId;

import java.util.LinkedHashSet;
import java.util.List;

/**
 * New servers have joined: move replicas onto them until the cluster is balanced (per table, then in
 * total), then even leaders with transfers. Replicas only move onto the new servers, and only where the
 * move lowers the skew (OpenMLDB's scale-out, seed 002).
 */
public record ScaleOut(List<ServerId> newServers, boolean balanceLeaders) implements Goal {
    public ScaleOut {
        newServers = List.copyOf(new LinkedHashSet<>(newServers));
        if (newServers.isEmpty()) {
            throw new IllegalArgumentException("name at least one new server");
        }
    }
}
