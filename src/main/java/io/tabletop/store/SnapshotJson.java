package io.tabletop.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The snapshot interchange format (README, "Snapshot JSON"). Unknown fields are ignored; optional fields
 * may be absent. Every problem is a {@link FormatException} naming what is wrong and where: a file with no
 * servers is not a snapshot; sizes and rows are whole numbers from 0 to 2^53 ({@link Partition#MAX_COUNT}).
 */
public final class SnapshotJson {
    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SnapshotJson() {
    }

    public static String write(ClusterSnapshot s) {
        try {
            return MAPPER.writeValueAsString(toTree(s));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void write(ClusterSnapshot s, Path file) throws IOException {
        PrivateFiles.writeString(file, write(s) + "\n");
    }

    public static ObjectNode toTree(ClusterSnapshot s) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("engine", s.engine().wireName());
        root.put("cluster", s.cluster());
        if (s.takenAt() != null) {
            root.put("takenAt", s.takenAt().toString());
        }
        ArrayNode servers = root.putArray("servers");
        for (Server v : s.servers()) {
            ObjectNode n = servers.addObject();
            n.put("id", v.id().value());
            n.put("address", v.address());
            if (v.location() != null) {
                n.put("location", v.location());
            }
            n.put("state", v.state().name());
            putIf(n, "capacityBytes", v.capacityBytes());
            putIf(n, "usedBytes", v.usedBytes());
            putIf(n, "heartbeatAgeMillis", v.heartbeatAgeMillis());
            if (!v.services().isEmpty()) {
                ArrayNode sv = n.putArray("services");
                v.services().forEach(sv::add);
            }
            if (!v.holdsData()) {
                n.put("holdsData", false);
            }
        }
        ArrayNode tables = root.putArray("tables");
        for (Table t : s.tables()) {
            tables.addObject().put("id", t.id().value()).put("name", t.name()).put("replicationFactor", t.replicationFactor());
        }
        ArrayNode parts = root.putArray("partitions");
        for (Partition p : s.partitions()) {
            ObjectNode n = parts.addObject();
            n.put("id", p.id().value());
            n.put("table", p.table().value());
            putIf(n, "sizeBytes", p.sizeBytes());
            putIf(n, "rows", p.rows());
            ArrayNode reps = n.putArray("replicas");
            for (Replica r : p.replicas()) {
                reps.addObject().put("server", r.server().value()).put("role", r.role().name());
            }
        }
        return root;
    }

    private static List<String> services(JsonNode n) throws FormatException {
        List<String> out = new ArrayList<>();
        JsonNode a = n.path("services");
        if (a.isMissingNode() || a.isNull()) {
            return out;
        }
        if (!a.isArray()) {
            throw new FormatException("server " + n.path("id").asText() + ": 'services' must be a list of names");
        }
        a.forEach(x -> out.add(x.asText()));
        return out;
    }

    private static void putIf(ObjectNode n, String field, Long v) {
        if (v != null) {
            n.put(field, v);
        }
    }

    public static ClusterSnapshot read(Path file) throws FormatException, IOException {
        return read(JsonText.read(file, "snapshot"), file.toString());
    }

    /** @param source a name for messages: the file, or "standard input" */
    public static ClusterSnapshot read(String text, String source) throws FormatException {
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new FormatException(source + ": not valid JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new FormatException(source + ": expected a JSON object with servers, tables and partitions");
        }
        JsonNode listed = root.get("servers");
        if (listed == null || (listed.isArray() && listed.isEmpty()) || listed.isNull()) {
            // {} or a file of some other kind: a cluster has at least one server
            throw new FormatException(source + ": not a snapshot: no servers");
        }
        try {
            Engine engine = Engine.fromWire(text(root, "engine", "sandbox"));
            List<Server> servers = new ArrayList<>();
            for (JsonNode n : array(root, "servers")) {
                servers.add(new Server(ServerId.of(required(n, "id", "server")), text(n, "address", null),
                        text(n, "location", null), enumOf(ServerState.class, text(n, "state", "LIVE"), "server state"),
                        longOrNull(n, "capacityBytes"), longOrNull(n, "usedBytes"), longOrNull(n, "heartbeatAgeMillis"),
                        services(n), !n.has("holdsData") || n.path("holdsData").asBoolean(true)));
            }
            List<Table> tables = new ArrayList<>();
            for (JsonNode n : array(root, "tables")) {
                String id = required(n, "id", "table");
                JsonNode rf = n.get("replicationFactor");
                if (rf == null || !rf.canConvertToInt()) {
                    throw new FormatException("table " + id + ": replicationFactor missing or not a number");
                }
                tables.add(new Table(TableId.of(id), text(n, "name", null), rf.asInt()));
            }
            List<Partition> partitions = new ArrayList<>();
            for (JsonNode n : array(root, "partitions")) {
                String id = required(n, "id", "partition");
                List<Replica> reps = new ArrayList<>();
                for (JsonNode r : array(n, "replicas")) {
                    reps.add(new Replica(ServerId.of(required(r, "server", "replica of partition " + id)),
                            enumOf(ReplicaRole.class, text(r, "role", "FOLLOWER"), "replica role")));
                }
                partitions.add(new Partition(PartitionId.of(id), TableId.of(required(n, "table", "partition " + id)),
                        longOrNull(n, "sizeBytes"), longOrNull(n, "rows"), reps));
            }
            String taken = text(root, "takenAt", null);
            return new ClusterSnapshot(engine, text(root, "cluster", null), taken == null ? null : Instant.parse(taken),
                    servers, tables, partitions);
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new FormatException(source + ": " + e.getMessage());
        } catch (FormatException e) {
            throw new FormatException(source + ": " + e.getMessage());
        }
    }

    static Iterable<JsonNode> array(JsonNode n, String field) throws FormatException {
        JsonNode a = n.get(field);
        if (a == null || a.isNull()) {
            return List.of();
        }
        if (!a.isArray()) {
            throw new FormatException("'" + field + "' must be an array");
        }
        return a;
    }

    static String required(JsonNode n, String field, String what) throws FormatException {
        JsonNode v = n.get(field);
        if (v == null || !v.isValueNode() || v.asText().isBlank()) {
            throw new FormatException(what + " without '" + field + "': " + n);
        }
        return v.asText();
    }

    static String text(JsonNode n, String field, String dflt) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    static Long longOrNull(JsonNode n, String field) throws FormatException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToLong()) {
            throw new FormatException("'" + field + "' must be a whole number, was " + v);
        }
        return v.asLong();
    }

    static <E extends Enum<E>> E enumOf(Class<E> type, String value, String what) throws FormatException {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new FormatException("unknown " + what + " '" + value + "'");
        }
    }
}
