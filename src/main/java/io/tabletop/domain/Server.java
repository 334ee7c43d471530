package io.tabletop.domain;

import java.util.List;
import java.util.Objects;

/**
 * One tablet server as seen in a snapshot.
 *
 * @param location           rack or location path such as {@code /rack1}; {@code null} when the cluster has none
 * @param capacityBytes      disk capacity in bytes; {@code null} when unknown
 * @param usedBytes          bytes in use; {@code null} when unknown
 * @param heartbeatAgeMillis milliseconds since the last heartbeat; {@code null} when unknown
 * @param services           the engine's services on the server (Couchbase: kv, n1ql, index…); empty when
 *                           the engine has none
 * @param holdsData          whether the server can hold partitions at all (a Couchbase node without the data
 *                           service cannot: it holds nothing and is never a destination)
 */
public record Server(ServerId id, String address, String location, ServerState state,
                     Long capacityBytes, Long usedBytes, Long heartbeatAgeMillis, List<String> services, boolean holdsData) {
    public Server {
        services = services == null ? List.of() : List.copyOf(services);
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(state, "state of server " + id);
        address = address == null || address.isBlank() ? id.value() : address;
        location = location == null || location.isBlank() ? null : location;
        if (capacityBytes != null && (capacityBytes < 0 || capacityBytes > Partition.MAX_COUNT)) {
            throw new IllegalArgumentException("server " + id + ": capacityBytes must be 0 to 2^53, was " + capacityBytes);
        }
        if (usedBytes != null && (usedBytes < 0 || usedBytes > Partition.MAX_COUNT)) {
            throw new IllegalArgumentException("server " + id + ": usedBytes must be 0 to 2^53, was " + usedBytes);
        }
    }

    public Server(ServerId id, String address, String location, ServerState state,
                  Long capacityBytes, Long usedBytes, Long heartbeatAgeMillis) {
        this(id, address, location, state, capacityBytes, usedBytes, heartbeatAgeMillis, List.of(), true);
    }

    public Server(ServerId id, String address, String location, ServerState state) {
        this(id, address, location, state, null, null, null);
    }

    public boolean hasCapacity() {
        return capacityBytes != null && capacityBytes > 0;
    }

    /**
     * Whether the server does not answer: declared dead, or no heartbeat for {@code millis} or longer (an
     * unknown heartbeat age counts as answering).
     */
    public boolean silentFor(long millis) {
        return !state.isUp() || (heartbeatAgeMillis != null && heartbeatAgeMillis >= millis);
    }

    public Server withState(ServerState newState) {
        return new Server(id, address, location, newState, capacityBytes, usedBytes, heartbeatAgeMillis, services, holdsData);
    }
}
