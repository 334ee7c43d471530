package io.tabletop.connector.openmldb;

import io.tabletop.connector.ConnectorException;
import com.fasterxml.jackson.databind.JsonNode;
import io.tabletop.connector.HealthReport;
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
import io.tabletop.domain.Verdict;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The nameserver's JSON as Tabletop's model (src/docs/openmldb.md, "Reading the cluster"), pure: no I/O.
 * <ul>
 *   <li>a tablet is a server, its endpoint both id and address; kHealthy → LIVE, anything else DEAD;</li>
 *   <li>a table is {@code db.name} (just {@code name} in the legacy default database) with replication
 *       factor {@code replica_num}; partition {@code pid} is {@code db.name/pid};</li>
 *   <li>a row that is not alive ({@code is_alive=false}; absent means alive) is a {@link ReplicaRole#STALE}
 *       copy: the stale leader row a ChangeLeader leaves until RecoverTable, or a follower taken out of
 *       service. It stays in the model (the grid shows it, the planner never puts a copy there and moves it
 *       off a drained tablet), and health warns about it. The leader is the row that is leader <em>and</em>
 *       alive;</li>
 *   <li>rows and bytes are the partition's {@code record_cnt} and {@code record_byte_size} (absent until
 *       the nameserver's first status refresh: unknown, not 0).</li>
 * </ul>
 */
final class OpenMldbTopology {
    private OpenMldbTopology() {
    }

    static String tableId(String db, String name) {
        return db.isEmpty() ? name : db + "." + name;
    }

    /** {db, name, pid} of a partition id {@code db.name/pid}. */
    static String[] parts(PartitionId id) {
        String v = id.value();
        int slash = v.lastIndexOf('/');
        String table = v.substring(0, slash);
        int dot = table.indexOf('.');
        return new String[]{dot < 0 ? "" : table.substring(0, dot), dot < 0 ? table : table.substring(dot + 1), v.substring(slash + 1)};
    }

    /**
     * {@link #snapshot} for answers Tabletop does not control: a ShowTablet or ShowTable reply not in the shape
     * the nameserver sends is one {@link ConnectorException} naming it, never a crash or a half-read snapshot.
     */
    static ClusterSnapshot read(String cluster, JsonNode showTablet, JsonNode showTable, Instant takenAt) throws ConnectorException {
        shapes(showTablet, showTable);
        try {
            return snapshot(cluster, showTablet, showTable, takenAt);
        } catch (RuntimeException e) {
            throw new ConnectorException(Engine.OPENMLDB, "read the cluster", "ShowTablet and ShowTable do not hold together as the "
                    + "nameserver's do: " + e.getMessage(), false, e);
        }
    }

    /** {@link #health} for answers Tabletop does not control. */
    static HealthReport readHealth(JsonNode showTablet, JsonNode showTable, JsonNode ops, boolean autoFailover) throws ConnectorException {
        shapes(showTablet, showTable);
        try {
            return health(showTablet, showTable, ops, autoFailover);
        } catch (RuntimeException e) {
            throw new ConnectorException(Engine.OPENMLDB, "check health", "the nameserver's replies are not in the shape it sends: "
                    + e.getMessage(), false, e);
        }
    }

    private static String opPartition(JsonNode op) {
        return tableId(op.path("db").asText(""), op.path("name").asText()) + "/" + op.path("pid").asInt();
    }

    private static void shapes(JsonNode showTablet, JsonNode showTable) throws ConnectorException {
        shape(showTablet, "tablets", "ShowTablet");
        shape(showTable, "table_info", "ShowTable");
    }

    private static void shape(JsonNode reply, String array, String method) throws ConnectorException {
        if (reply == null || !reply.isObject() || !(reply.path(array).isArray() || reply.path(array).isMissingNode())) {
            throw new ConnectorException(Engine.OPENMLDB, method, "the reply is not what the nameserver sends (an object with " + array + ")",
                    false, null);
        }
    }

    static ClusterSnapshot snapshot(String cluster, JsonNode showTablet, JsonNode showTable, Instant takenAt) {
        List<Server> servers = new ArrayList<>();
        for (JsonNode t : showTablet.path("tablets")) {
            String ep = t.path("endpoint").asText();
            servers.add(new Server(ServerId.of(ep), ep, null, "kHealthy".equals(t.path("state").asText()) ? ServerState.LIVE : ServerState.DEAD));
        }
        List<Table> tables = new ArrayList<>();
        List<Partition> partitions = new ArrayList<>();
        for (JsonNode ti : showTable.path("table_info")) {
            String id = tableId(ti.path("db").asText(""), ti.path("name").asText());
            tables.add(new Table(TableId.of(id), id, Math.max(1, ti.path("replica_num").asInt(1))));
            for (JsonNode tp : ti.path("table_partition")) {
                List<Replica> reps = new ArrayList<>();
                for (JsonNode m : tp.path("partition_meta")) {
                    ReplicaRole role = !m.path("is_alive").asBoolean(true) ? ReplicaRole.STALE
                            : m.path("is_leader").asBoolean(false) ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER;
                    reps.add(new Replica(ServerId.of(m.path("endpoint").asText()), role));
                }
                Long rows = tp.has("record_cnt") ? tp.path("record_cnt").asLong() : null;
                Long bytes = tp.has("record_byte_size") ? tp.path("record_byte_size").asLong() : null;
                partitions.add(new Partition(PartitionId.of(id + "/" + tp.path("pid").asInt()), TableId.of(id), bytes, rows, reps));
            }
        }
        return new ClusterSnapshot(Engine.OPENMLDB, cluster, takenAt, servers, tables, partitions);
    }

    /**
     * Unhealthy tablets that hold data, partitions without an alive leader, ops running or failed block;
     * replicas not alive (a stale leader row, a dead follower), an offline tablet holding nothing,
     * auto_failover on, and a one-tablet (standalone) deployment warn.
     */
    static HealthReport health(JsonNode showTablet, JsonNode showTable, JsonNode ops, boolean autoFailover) {
        List<String> block = new ArrayList<>();
        List<String> warn = new ArrayList<>();
        List<String> offline = new ArrayList<>();
        for (JsonNode t : showTablet.path("tablets")) {
            if (!"kHealthy".equals(t.path("state").asText())) {
                offline.add(t.path("endpoint").asText());
            }
        }
        int noLeader = 0;
        int notAlive = 0;
        List<String> holding = new ArrayList<>();
        for (JsonNode ti : showTable.path("table_info")) {
            for (JsonNode tp : ti.path("table_partition")) {
                boolean leader = false;
                for (JsonNode m : tp.path("partition_meta")) {
                    boolean alive = m.path("is_alive").asBoolean(true);
                    leader |= alive && m.path("is_leader").asBoolean(false);
                    notAlive += alive ? 0 : 1;
                    if (alive && offline.contains(m.path("endpoint").asText()) && !holding.contains(m.path("endpoint").asText())) {
                        holding.add(m.path("endpoint").asText());
                    }
                }
                noLeader += leader ? 0 : 1;
            }
        }
        for (String ep : offline) {
            (holding.contains(ep) ? block : warn).add("tablet " + ep + " is offline" + (holding.contains(ep) ? " and holds replicas (the "
                    + "nameserver fails a tablet over only at the moment it goes, with auto_failover on; later, ns_client's offlineendpoint "
                    + ep + " makes other copies lead)"
                    : " and holds nothing (it stays listed until the nameserver restarts)"));
        }
        if (noLeader > 0) {
            block.add(noLeader + " partition(s) have no alive leader");
        }
        if (notAlive > 0) {
            warn.add(notAlive + " replica row(s) not alive (a leader left stale by a ChangeLeader, or a dead follower: RecoverTable)");
        }
        int running = 0;
        java.util.Map<String, Long> lastDone = new java.util.HashMap<>();
        for (JsonNode op : ops.path("op_status")) {
            if (op.path("status").asText().equals("kDone")) {
                lastDone.merge(opPartition(op), op.path("op_id").asLong(), Math::max);
            }
        }
        for (JsonNode op : ops.path("op_status")) {
            String st = op.path("status").asText();
            if (st.equals("kDoing") || st.equals("kInited")) {
                running++;
            } else if (st.equals("kFailed") && lastDone.getOrDefault(opPartition(op), -1L) > op.path("op_id").asLong()) {
                warn.add("op " + op.path("op_id").asLong() + " (" + op.path("op_type").asText() + " of " + opPartition(op) + ") failed at "
                        + op.path("task_type").asText() + "; a later op of that partition succeeded (deleteop clears it from the history)");
            } else if (st.equals("kFailed")) {
                block.add("op " + op.path("op_id").asLong() + " (" + op.path("op_type").asText() + " of " + tableId(op.path("db").asText(""),
                        op.path("name").asText()) + "/" + op.path("pid").asInt() + ") failed at " + op.path("task_type").asText()
                        + ": fix it, then delete the op (deleteop)");
            }
        }
        if (running > 0) {
            block.add(running + " op(s) running (ops go on when the process that started them stops: wait until they end, then try again)");
        }
        if (autoFailover) {
            warn.add("auto_failover is on: a run turns it off while it migrates and back on at the end");
        }
        int tablets = showTablet.path("tablets").size();
        if (tablets == 1) {
            warn.add("one tablet (a standalone deployment?): nothing to scale");
        }
        if (!block.isEmpty()) {
            List<String> all = new ArrayList<>(block);
            all.addAll(warn);
            return new HealthReport(Verdict.BLOCK, block.size() + " problem(s)", all);
        }
        if (!warn.isEmpty()) {
            return new HealthReport(Verdict.WARN, tablets + " tablets; " + warn.size() + " warning(s)", warn);
        }
        return new HealthReport(Verdict.PASS, tablets + " tablets healthy; every partition has an alive leader; no op running", List.of());
    }
}
