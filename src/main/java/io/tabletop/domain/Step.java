package io.tabletop.domain;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One step of a plan. Which fields are set depends on the type: partition steps
 * ({@code TRANSFER_LEADER}, {@code MOVE_REPLICA}) have partition, table, from and to; server steps
 * ({@code ENTER_MAINTENANCE}, {@code STOP_SERVER}, {@code UNREGISTER_SERVER}, {@code EXIT_MAINTENANCE})
 * have one server; {@code HEALTH_GATE} may name the servers being removed, whose absence it then ignores
 * (as Kudu's {@code --ignored_tservers}); {@code ENGINE_REBALANCE} names the set of servers the engine's
 * own rebalance takes out (Couchbase ejects every node of a removal in one rebalance) or none.
 *
 * @param index   position in the plan, from 0
 * @param phase   index of the phase it belongs to
 * @param servers the servers a server step is about, in order; empty for partition steps
 * @param bytes   data the step copies (moves only), 0 otherwise
 * @param reason  one line a reviewer can read: why this step, why this destination
 */
public record Step(int index, int phase, StepType type, PartitionId partition, TableId table,
                   ServerId from, ServerId to, List<ServerId> servers, long bytes, String reason) {
    public Step {
        Objects.requireNonNull(type, "type");
        reason = reason == null ? "" : reason;
        servers = servers == null ? List.of() : List.copyOf(servers);
        switch (type) {
            case TRANSFER_LEADER, MOVE_REPLICA -> {
                Objects.requireNonNull(partition, type + " needs a partition");
                Objects.requireNonNull(from, type + " needs from");
                Objects.requireNonNull(to, type + " needs to");
                if (from.equals(to)) {
                    throw new IllegalArgumentException(type + " of " + partition + " from and to the same server " + from);
                }
            }
            case ENTER_MAINTENANCE, STOP_SERVER, UNREGISTER_SERVER, EXIT_MAINTENANCE -> {
                if (servers.size() != 1) {
                    throw new IllegalArgumentException(type + " needs one server, has " + servers.size());
                }
            }
            default -> {
            }
        }
    }

    public static Step move(int phase, PartitionId p, TableId t, ServerId from, ServerId to, long bytes, String reason) {
        return new Step(-1, phase, StepType.MOVE_REPLICA, p, t, from, to, List.of(), bytes, reason);
    }

    public static Step transfer(int phase, PartitionId p, TableId t, ServerId from, ServerId to, String reason) {
        return new Step(-1, phase, StepType.TRANSFER_LEADER, p, t, from, to, List.of(), 0, reason);
    }

    public static Step server(int phase, StepType type, ServerId server, String reason) {
        return new Step(-1, phase, type, null, null, null, null, List.of(Objects.requireNonNull(server, type + " needs a server")), 0, reason);
    }

    public static Step gate(int phase, ServerId ignoring, String reason) {
        return new Step(-1, phase, StepType.HEALTH_GATE, null, null, null, null, ignoring == null ? List.of() : List.of(ignoring), 0, reason);
    }

    /** The engine's own rebalance, taking {@code servers} out (none: a plain rebalance). */
    public static Step engineRebalance(int phase, List<ServerId> servers, long bytes, String reason) {
        return new Step(-1, phase, StepType.ENGINE_REBALANCE, null, null, null, null, servers, bytes, reason);
    }

    /** The engine fails {@code servers} over gracefully, in one call (Couchbase's {@code startGracefulFailover}). */
    public static Step failover(int phase, List<ServerId> servers, String reason) {
        return new Step(-1, phase, StepType.FAILOVER, null, null, null, null, servers, 0, reason);
    }

    public Step withIndex(int i) {
        return new Step(i, phase, type, partition, table, from, to, servers, bytes, reason);
    }

    public Step withPhase(int p) {
        return new Step(index, p, type, partition, table, from, to, servers, bytes, reason);
    }

    /** The first of {@link #servers()}, or null: the one server of a server step. */
    public ServerId server() {
        return servers.isEmpty() ? null : servers.get(0);
    }

    /** The servers this step touches, for concurrency limits. */
    public List<ServerId> touchedServers() {
        if (from != null) {
            return List.of(from, to);
        }
        if (type == StepType.HEALTH_GATE) {
            return List.of();
        }
        return servers;
    }

    /**
     * A short human description: "Move p-17 ts-3 → ts-5". Long ids (Kudu's 32-hex UUIDs) appear as their
     * first 8 characters, as operators read them.
     */
    public String describe() {
        return switch (type) {
            case MOVE_REPLICA -> "Move " + brief(partition.value()) + " " + brief(from.value()) + " → " + brief(to.value());
            case TRANSFER_LEADER -> "Leader of " + brief(partition.value()) + " " + brief(from.value()) + " → " + brief(to.value());
            case HEALTH_GATE -> "Health gate";
            case ENGINE_REBALANCE -> servers.isEmpty() ? "Engine rebalance"
                    : "Engine rebalance emptying " + servers.stream().map(s -> brief(s.value())).collect(Collectors.joining(", "));
            case FAILOVER -> "Graceful failover of " + servers.stream().map(s -> brief(s.value())).collect(Collectors.joining(", "));
            default -> type.label() + " " + brief(server().value());
        };
    }

    private static String brief(String id) {
        return id.length() > 16 ? id.substring(0, 8) : id;
    }
}
