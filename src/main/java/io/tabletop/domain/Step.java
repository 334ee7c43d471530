package io.tabletop.domain;


import java.util.Objects;

/**
 * One step of a plan. Which fields are set depends on the type: partition steps
 * ({@code TRANSFER_LEADER}, {@code MOVE_REPLICA}) have partition, table, from and to; server steps
 * ({@code ENTER_MAINTENANCE}, {@code STOP_SERVER}, {@code UNREGISTER_SERVER}, {@code EXIT_MAINTENANCE})
 * have server; {@code HEALTH_GATE} may name the server being removed, whose absence it then ignores (as
 * Kudu's {@code --ignored_tservers}); {@code ENGINE_REBALANCE} has neither.
 *
 * @param index  position in the plan, from 0
 * @param phase  index of the phase it belongs to
 * @param bytes  data the step copies (moves only), 0 otherwise
 * @param reason one line a reviewer can read: why this step, why this destination
 */
public record Step(int index, int phase, StepType type, PartitionId partition, TableId table,
                   ServerId from, ServerId to, ServerId server, long bytes, String reason) {
    public Step {
        Objects.requireNonNull(type, "type");
        reason = reason == null ? "" : reason;
        switch (type) {
            case TRANSFER_LEADER, MOVE_REPLICA -> {
                Objects.requireNonNull(partition, type + " needs a partition");
                Objects.requireNonNull(from, type + " needs from");
                Objects.requireNonNull(to, type + " needs to");
                if (from.equals(to)) {
                    throw new IllegalArgumentException(type + " of " + partition + " from and to the same server " + from);
                }
            }
            case ENTER_MAINTENANCE, STOP_SERVER, UNREGISTER_SERVER, EXIT_MAINTENANCE ->
                    Objects.requireNonNull(server, type + " needs a server");
            default -> {
            }
        }
    }

    public static Step move(int phase, PartitionId p, TableId t, ServerId from, ServerId to, long bytes, String reason) {
        return new Step(-1, phase, StepType.MOVE_REPLICA, p, t, from, to, null, bytes, reason);
    }

    public static Step transfer(int phase, PartitionId p, TableId t, ServerId from, ServerId to, String reason) {
        return new Step(-1, phase, StepType.TRANSFER_LEADER, p, t, from, to, null, 0, reason);
    }

    public static Step server(int phase, StepType type, ServerId server, String reason) {
        return new Step(-1, phase, type, null, null, null, null, server, 0, reason);
    }

    public static Step gate(int phase, ServerId ignoring, String reason) {
        return new Step(-1, phase, StepType.HEALTH_GATE, null, null, null, null, ignoring, 0, reason);
    }

    public Step withIndex(int i) {
        return new Step(i, phase, type, partition, table, from, to, server, bytes, reason);
    }

    /** The servers this step touches, for concurrency limits. */
    public java.util.List<ServerId> touchedServers() {
        if (from != null) {
            return java.util.List.of(from, to);
        }
        if (type == StepType.HEALTH_GATE) {
            return java.util.List.of();
        }
        return server == null ? java.util.List.of() : java.util.List.of(server);
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
            case ENGINE_REBALANCE -> "Engine rebalance emptying " + brief(server.value());
            default -> type.label() + " " + brief(server.value());
        };
    }

    private static String brief(String id) {
        return id.length() > 16 ? id.substring(0, 8) : id;
    }
}
