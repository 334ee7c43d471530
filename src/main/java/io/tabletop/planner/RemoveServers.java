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
 */
public record RemoveServers(List<ServerId> servers, boolean balanceLeaders, double fillLimit, Strategy strategy) implements Goal {
    public static final double DEFAULT_FILL_LIMIT = 0.85;

    /** Who moves the replicas. */
    public enum Strategy {
        /** Tabletop's plan: every move chosen here and shown in the preview. */
        TABLETOP,
        /** The engine empties the server itself (Kudu's rebalancer); destinations are the engine's. */
        ENGINE
    }

    public RemoveServers(List<ServerId> servers, boolean balanceLeaders, double fillLimit) {
        this(servers, balanceLeaders, fillLimit, Strategy.TABLETOP);
    }

    public RemoveServers {
        strategy = strategy == null ? Strategy.TABLETOP : strategy;
        servers = List.copyOf(new LinkedHashSet<>(servers));
        if (servers.isEmpty()) {
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
