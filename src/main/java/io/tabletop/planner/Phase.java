package io.tabletop.planner;

import io.tabletop.domain.ServerId;

import java.util.List;

/** A group of steps run to completion before the next phase starts (one removed server, or leader balancing). */
public record Phase(int index, String title, List<ServerId> servers) {
    public Phase {
        servers = List.copyOf(servers);
    }
}
