package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import io.tabletop.connector.ConnectorException;
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

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Kudu's topology as a snapshot, from what the masters answer: {@code /dump-entities} (tablet servers,
 * tables, tablets and their replicas with the leader), {@code kudu tserver list --format=json} (location
 * and maintenance state by uuid) and {@code kudu cluster ksck --ksck_format=json_compact} (replication
 * factors, and on-disk sizes per replica; a tablet's size is its largest replica's). A pure function:
 * a replica on a server the masters no longer list shows on a DEAD "(unregistered)" server; a NON_VOTER
 * is a learner being built; a size Kudu does not report stays unknown.
 */
final class KuduTopology {
    private KuduTopology() {
    }

    static ClusterSnapshot snapshot(JsonNode dump, Map<String, JsonNode> listed, JsonNode ksck, String cluster, Instant at) {
        return snapshot(dump, listed, ksck, Map.of(), cluster, at);
    }

    /**
     * The tablets ksck gives no size for, whose sizes the tservers' metrics would give: those with at
     * least one replica in the masters' config.
     */
    static java.util.Set<String> unsized(JsonNode dump, JsonNode ksck) {
        java.util.Set<String> sized = ksckSizes(ksck).keySet();
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (JsonNode t : dump.path("tablets")) {
            String id = t.path("tablet_id").asText();
            if (!sized.contains(id) && t.path("replicas").size() > 0) {
                out.add(id);
            }
        }
        return out;
    }

    /**
     * The replicas a tserver's {@code /metrics?types=tablet&metrics=on_disk_size} lists, split into those
     * the masters' config places on it ({@code live}: tablet id to bytes) and tombstones (the rest: a drained
     * server keeps them, with a stale size; KUDU-3486).
     */
    record Replicas(Map<String, Long> live, Map<String, Long> tombstoned) {
    }

    /** {@link #replicasOn} for a tserver's answer Tabletop does not control: empty when it is not in Kudu's shape. */
    static java.util.Optional<Replicas> readReplicasOn(JsonNode metrics, JsonNode dump, String uuid) {
        try {
            return metrics == null || !metrics.isArray() ? java.util.Optional.empty() : java.util.Optional.of(replicasOn(metrics, dump, uuid));
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    static Replicas replicasOn(JsonNode metrics, JsonNode dump, String uuid) {
        java.util.Set<String> placed = new java.util.HashSet<>();
        for (JsonNode t : dump.path("tablets")) {
            for (JsonNode r : t.path("replicas")) {
                if (uuid.equals(r.path("server_uuid").asText())) {
                    placed.add(t.path("tablet_id").asText());
                }
            }
        }
        Map<String, Long> live = new HashMap<>();
        Map<String, Long> tomb = new HashMap<>();
        for (JsonNode e : metrics) {
            if (!"tablet".equals(e.path("type").asText())) {
                continue;
            }
            long size = 0;
            for (JsonNode m : e.path("metrics")) {
                if ("on_disk_size".equals(m.path("name").asText())) {
                    size = m.path("value").asLong(0);
                }
            }
            String id = e.path("id").asText();
            (placed.contains(id) ? live : tomb).put(id, size);
        }
        return new Replicas(live, tomb);
    }

    /**
     * As {@link #snapshot(JsonNode, Map, JsonNode, Map, String, Instant)}, for answers from a cluster Tabletop
     * does not control: an answer that is not in the shape Kudu sends is one {@link ConnectorException}
     * naming it, never a crash and never a snapshot read halfway.
     */
    static ClusterSnapshot read(JsonNode dump, Map<String, JsonNode> listed, JsonNode ksck, Map<String, Long> metricSizes,
                                String cluster, Instant at) throws ConnectorException {
        if (dump == null || !dump.isObject() || !dump.path("tablet_servers").isArray() || !dump.path("tablets").isArray()) {
            throw new ConnectorException(Engine.KUDU, "read the cluster", "the masters' /dump-entities is not what Kudu sends "
                    + "(an object with tablet_servers and tablets)", false, null);
        }
        if (ksck == null || !ksck.isObject()) {
            throw new ConnectorException(Engine.KUDU, "read the cluster", "kudu cluster ksck's JSON is not an object", false, null);
        }
        try {
            return snapshot(dump, listed, ksck, metricSizes, cluster, at);
        } catch (RuntimeException e) {
            throw new ConnectorException(Engine.KUDU, "read the cluster", "the answers of /dump-entities, tserver list and ksck "
                    + "do not hold together as Kudu's do: " + e.getMessage(), false, e);
        }
    }

    /** The snapshot, with sizes from the tservers' metrics ({@code metricSizes}) where ksck gives none. */
    static ClusterSnapshot snapshot(JsonNode dump, Map<String, JsonNode> listed, JsonNode ksck, Map<String, Long> metricSizes,
                                    String cluster, Instant at) {
        Map<String, Integer> rf = new HashMap<>();
        for (JsonNode t : ksck.path("table_summaries")) {
            rf.put(t.path("id").asText(), t.path("replication_factor").asInt());
        }
        Map<String, Long> sizes = new HashMap<>(metricSizes);
        sizes.putAll(ksckSizes(ksck));
        Map<ServerId, Server> servers = new LinkedHashMap<>();
        for (JsonNode ts : dump.path("tablet_servers")) {
            String uuid = ts.path("uuid").asText();
            JsonNode l = listed.get(uuid);
            String loc = l == null ? null : l.path("location").asText(null);
            if ("<none>".equals(loc)) {
                loc = null;
            }
            boolean live = ts.path("live").asBoolean(true);
            ServerState state = !live ? ServerState.DEAD
                    : l != null && "MAINTENANCE_MODE".equals(l.path("state").asText()) ? ServerState.MAINTENANCE : ServerState.LIVE;
            String rpc = ts.path("rpc_addrs").path(0).asText(uuid);
            Long hb = ts.path("millis_since_heartbeat").canConvertToLong() ? ts.path("millis_since_heartbeat").asLong() : null;
            servers.put(ServerId.of(uuid), new Server(ServerId.of(uuid), rpc, loc, state, null, null, hb));
        }
        List<Table> tables = new ArrayList<>();
        for (JsonNode t : dump.path("tables")) {
            String id = t.path("table_id").asText();
            tables.add(new Table(TableId.of(id), t.path("table_name").asText(id), rf.getOrDefault(id, 3)));
        }
        List<Partition> partitions = new ArrayList<>();
        for (JsonNode t : dump.path("tablets")) {
            String leader = t.path("leader").asText("");
            List<Replica> reps = new ArrayList<>();
            for (JsonNode r : t.path("replicas")) {
                String uuid = r.path("server_uuid").asText();
                servers.computeIfAbsent(ServerId.of(uuid), k -> new Server(k, r.path("addr").asText(uuid) + " (unregistered)",
                        null, ServerState.DEAD, null, null, null));
                ReplicaRole role = "NON_VOTER".equals(r.path("type").asText()) ? ReplicaRole.LEARNER
                        : uuid.equals(leader) ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER;
                reps.add(new Replica(ServerId.of(uuid), role));
            }
            String tablet = t.path("tablet_id").asText();
            partitions.add(new Partition(PartitionId.of(tablet), TableId.of(t.path("table_id").asText()),
                    sizes.get(tablet), null, reps));
        }
        return new ClusterSnapshot(Engine.KUDU, cluster, at, new ArrayList<>(servers.values()), tables, partitions);
    }

    /** Per tablet, its largest replica's {@code status_pb.estimated_on_disk_size} in ksck's JSON. */
    private static Map<String, Long> ksckSizes(JsonNode ksck) {
        Map<String, Long> sizes = new HashMap<>();
        for (JsonNode t : ksck.path("tablet_summaries")) {
            long max = -1;
            for (JsonNode r : t.path("replicas")) {
                JsonNode s = r.path("status_pb").path("estimated_on_disk_size");
                if (s.canConvertToLong()) {
                    max = Math.max(max, s.asLong());
                }
            }
            if (max >= 0) {
                sizes.put(t.path("id").asText(), max);
            }
        }
        return sizes;
    }
}
