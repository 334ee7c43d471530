package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import io.tabletop.executor.ExecutorOptions;

import java.util.HashSet;
import java.util.Set;

/**
 * How long a run waits for the cluster to settle, and what it counts while it waits: replicas still being
 * built, tablets with a voter too many, servers the engine has declared dead. Stateless.
 */
final class ClusterSettling {
    private ClusterSettling() {
    }

    /** How long a re-plan waits for the engine to declare a failed destination dead. */
    static final long DEATH_WAIT_MILLIS = 90_000;
    /** How long a re-plan waits for an engine that re-replicates (Kudu) to rebuild a dead server's copies. */
    static final long REREPLICATION_WAIT_MILLIS = 15 * 60_000;

    static Set<ServerId> declaredDead(ClusterSnapshot c, Set<ServerId> ids) {
        Set<ServerId> out = new HashSet<>();
        for (ServerId id : ids) {
            if (c.server(id).map(s -> !s.state().isUp()).orElse(false)) {
                out.add(id);
            }
        }
        return out;
    }


    /** How long a resume waits for moves cut short by the stop to settle (the engine finishes them). */
    static final long SETTLE_MILLIS = 90_000;

    /**
     * The live cluster once no replica is being built: a move cut short by a crash leaves a learner, which
     * Kudu promotes and then evicts the replaced copy by itself (its 3-4-3 scheme). Planning before that
     * would move the same replica a second way.
     */
    static ClusterSnapshot settled(ClusterSnapshot first, ClusterConnector connector) throws ConnectorException {
        ClusterSnapshot live = first;
        long deadline = System.nanoTime() + SETTLE_MILLIS * 1_000_000L;
        while (System.nanoTime() < deadline && unsettled(live) > 0) {
            try {
                Thread.sleep(1000); // polling a remote cluster, not a test wait
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            live = connector.snapshot();
        }
        return live;
    }


    /**
     * Partitions whose new copy is being built on a live server (a learner there): the engine is changing
     * them. A learner left on a {@code dead} server (a move to it cut short) is not being built: it waits for
     * the engine to evict it. A voter too many is not waited for: it may be a replaced leader that cannot
     * evict itself ({@link #overReplicated}; research/kudu.md 5.3), which the health gate repairs.
     */
    static long building(ClusterSnapshot c, java.util.Collection<ServerId> dead) {
        return c.partitions().stream().filter(p -> p.replicas().stream().anyMatch(x -> x.role() == ReplicaRole.LEARNER
                && !dead.contains(x.server()) && c.server(x.server()).map(s -> s.state().isUp()).orElse(false))).count();
    }

    /** Partitions with a replica being built (a learner). */
    static long unsettled(ClusterSnapshot c) {
        return c.partitions().stream().filter(p -> p.replicas().stream().anyMatch(x -> x.role() == ReplicaRole.LEARNER)).count();
    }

    /** Partitions with more voters than their replication factor (a leader's move cut short: research/kudu.md 5.3). */
    static long overReplicated(ClusterSnapshot c) {
        return c.partitions().stream().filter(p -> p.voterCount() > c.table(p.table()).map(t -> t.replicationFactor())
                .orElse(Integer.MAX_VALUE)).count();
    }


    /** How long a re-plan waits, at most, for the evictions a repair's leader step-downs set off. */
    static final long REPAIR_WAIT_MILLIS = 30_000;

    /**
     * Over-replicated partitions whose voters all answer: the engine evicts the extra one soon after a leader
     * step-down. One with a voter on a silent server waits for the engine's own repair instead.
     */
    static long overReplicatedRepairable(ClusterSnapshot c) {
        return c.partitions().stream().filter(p -> p.voterCount() > c.table(p.table()).map(t -> t.replicationFactor()).orElse(Integer.MAX_VALUE)
                && p.replicas().stream().allMatch(x -> c.server(x.server()).map(s -> s.state().isUp()
                        && !s.silentFor(ExecutorOptions.DEAD_AFTER.toMillis())).orElse(false))).count();
    }

    static ClusterSnapshot settled(ClusterConnector connector) throws ConnectorException {
        return settled(connector.snapshot(), connector);
    }

}
