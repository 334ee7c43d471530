package io.tabletop.planner;

import io.tabletop.domain.ServerId;

import java.util.LinkedHashSet;
import java.util.List;

/**
 * Take these servers out, in this order (one phase each where the engine asks for it).
 *
 * @param balanceLeaders add a last phase of leader transfers that evens leaders out (no data moves)
 * @param fillLimit      a destination never goes above this fraction of its capacity, when capacity is known
 * @param strategy       who chooses the moves: Tabletop (every move previewed) or the engine's own drain
 * @param rebuild        servers that died (not being removed): their replicas are rebuilt on the others
 *                       first, in a phase of their own; set when a run re-plans around a lost server
 */
public record RemoveServers(List<ServerId> servers, boolean balanceLeaders, double fillLimit, Strategy strategy,
                            List<ServerId> rebuild) implements Goal {
    public static final double DEFAULT_FILL_LIMIT = 0.85;

    /** Who moves the replicas. */
    public enum Strategy {
        /** Tabletop's plan: every move chosen here and shown in the preview. */
        TABLETOP,
        /** The engine empties the server itself (Kudu's rebalancer); destinations are the engine's. */
        ENGINE,
        /**
         * Where the engine moves data only in its own rebalance (Couchbase): fail the servers over gracefully
         * first (their active copies move to replicas on other nodes), then the rebalance ejects them.
         */
        FAILOVER_FIRST
    }

    public RemoveServers(List<ServerId> servers, boolean balanceLeaders, double fillLimit) {
        this(servers, balanceLeaders, fillLimit, Strategy.TABLETOP, List.of());
    }

    public RemoveServers(List<ServerId> servers, boolean balanceLeaders, double fillLimit, Strategy strategy) {
        this(servers, balanceLeaders, fillLimit, strategy, List.of());
    }

    /** The same goal, also rebuilding the replicas of these dead servers first. */
    public RemoveServers rebuilding(List<ServerId> dead) {
        return new RemoveServers(servers, balanceLeaders, fillLimit, strategy, dead);
    }

    public RemoveServers {
        strategy = strategy == null ? Strategy.TABLETOP : strategy;
        servers = List.copyOf(new LinkedHashSet<>(servers));
        rebuild = rebuild == null ? List.of() : List.copyOf(new LinkedHashSet<>(rebuild));
        if (servers.isEmpty() && rebuild.isEmpty()) {
            throw new IllegalArgumentException("select at least one server to remove");
        }
        if (!(fillLimit > 0 && fillLimit <= 1)) {
            throw new IllegalArgumentException("fill limit must be in (0, 1], was " + fillLimit);
        }
    }

    public static RemoveServers of(ServerId... ids) {
        return new RemoveServers(List.of(ids), true, DEFAULT_FILL_LIMIT);
    }
}
