package io.tabletop.planner;

import io.tabletop.domain.Step;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which steps may run at the same time, shared by the estimator and the executor so that the estimate
 * describes the run: at most one step per partition in flight, at most {@code maxPerServer} steps
 * touching a server (as source or destination, as Kudu's rebalancer counts), and barrier steps alone.
 * Not thread-safe: one owner.
 */
public final class ConcurrencyRules {
    private final int maxPerServer;
    private final Map<ServerId, Integer> perServer = new HashMap<>();
    private final Set<PartitionId> partitions = new HashSet<>();
    private int inFlight;
    private boolean barrierRunning;

    public ConcurrencyRules(int maxPerServer) {
        if (maxPerServer < 1) {
            throw new IllegalArgumentException("maxPerServer must be >= 1");
        }
        this.maxPerServer = maxPerServer;
    }

    public boolean canStart(Step s) {
        if (barrierRunning) {
            return false;
        }
        if (s.type().isBarrier()) {
            return inFlight == 0;
        }
        if (s.partition() != null && partitions.contains(s.partition())) {
            return false;
        }
        for (ServerId id : s.touchedServers()) {
            if (perServer.getOrDefault(id, 0) >= maxPerServer) {
                return false;
            }
        }
        return true;
    }

    public void started(Step s) {
        if (!canStart(s)) {
            throw new IllegalStateException("step " + s.index() + " may not start now");
        }
        inFlight++;
        if (s.type().isBarrier()) {
            barrierRunning = true;
            return;
        }
        if (s.partition() != null) {
            partitions.add(s.partition());
        }
        for (ServerId id : s.touchedServers()) {
            perServer.merge(id, 1, Integer::sum);
        }
    }

    public void finished(Step s) {
        inFlight--;
        if (s.type().isBarrier()) {
            barrierRunning = false;
            return;
        }
        if (s.partition() != null) {
            partitions.remove(s.partition());
        }
        for (ServerId id : s.touchedServers()) {
            perServer.merge(id, -1, Integer::sum);
        }
    }

    public boolean barrierRunning() {
        return barrierRunning;
    }

    /** Whether {@code server} already has as many steps in flight as allowed. */
    public boolean saturated(ServerId server) {
        return perServer.getOrDefault(server, 0) >= maxPerServer;
    }

    public int inFlight() {
        return inFlight;
    }
}
