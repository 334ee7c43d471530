package io.tabletop.connector.sandbox;

import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;

import java.util.ArrayList;
import java.util.List;

/**
 * Faults to inject into the sandbox: moves that fail part-way, and servers that die while a move
 * touches them. Each fault fires a set number of times. Thread-safe.
 */
public final class Faults {
    private final List<Rule> rules = new ArrayList<>();

    /** What to do to one move as it starts. Null fractions: nothing. */
    record Decision(Double failAtFraction, String message, Double killAtFraction, ServerId kill) {
        static final Decision NONE = new Decision(null, null, null, null);
    }

    private static final class Rule {
        final PartitionId partition;
        final ServerId server;
        final boolean kill;
        int remaining;

        Rule(PartitionId partition, ServerId server, boolean kill, int times) {
            this.partition = partition;
            this.server = server;
            this.kill = kill;
            this.remaining = times;
        }
    }

    /** The next {@code times} moves (of {@code partition}, or of any partition when null) fail half-way. */
    public synchronized Faults failMoves(PartitionId partition, int times) {
        rules.add(new Rule(partition, null, false, times));
        return this;
    }

    /** The first move that copies onto or off {@code server} kills that server half-way. */
    public synchronized Faults killDuringMove(ServerId server) {
        rules.add(new Rule(null, server, true, 1));
        return this;
    }

    public synchronized void clear() {
        rules.clear();
    }

    synchronized Decision onMoveStart(PartitionId p, ServerId from, ServerId to) {
        for (Rule r : rules) {
            if (r.remaining <= 0) {
                continue;
            }
            if (r.kill && (r.server.equals(from) || r.server.equals(to))) {
                r.remaining--;
                return new Decision(null, null, 0.5, r.server);
            }
            if (!r.kill && (r.partition == null || r.partition.equals(p))) {
                r.remaining--;
                return new Decision(0.5, "Timed out: injected fault: tablet copy session from the leader was closed", null, null);
            }
        }
        return Decision.NONE;
    }
}
