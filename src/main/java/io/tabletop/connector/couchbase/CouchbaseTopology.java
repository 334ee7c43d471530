package io.tabletop.connector.couchbase;

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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ns_server's JSON as Tabletop's model (src/docs/couchbase.md §1), pure: no I/O.
 * <ul>
 *   <li>a node is a server: id = its otpNode ({@code ns_1@10.0.0.5}), address = its {@code hostname}, location
 *       = its server group; healthy and active → LIVE, added but not yet rebalanced in → LIVE (the next
 *       rebalance fills it), unhealthy or failed over → DEAD, warming up → MAINTENANCE; a node without the
 *       data service (kv) holds nothing and is never a destination;</li>
 *   <li>a Couchbase or ephemeral bucket is a table with replication factor {@code replicaNumber} + 1; its
 *       vBuckets are the partitions: chain entry 0 the active (LEADER), the rest replicas (FOLLOWER);
 *       {@code -1} is a missing copy (left out, and reported by {@link #health}); memcached buckets hold no
 *       vBuckets;</li>
 *   <li>items and bytes per vBucket are the bucket's totals ({@code basicStats.itemCount},
 *       {@code dataUsed}) spread evenly over its vBuckets: estimates, as keys hash uniformly (src/docs/couchbase.md §1).</li>
 * </ul>
 */
final class CouchbaseTopology {
    private CouchbaseTopology() {
    }

    /** The node that a {@code serverList} entry ({@code host:kvport}) names, matched on host and {@code ports.direct}. */
    static Map<String, String> otpByKvAddress(JsonNode nodes) {
        Map<String, String> out = new HashMap<>();
        for (JsonNode n : nodes) {
            String host = host(n.path("hostname").asText());
            out.put(host + ":" + n.path("ports").path("direct").asInt(11210), n.path("otpNode").asText());
        }
        return out;
    }

    static String host(String hostname) {
        if (hostname.startsWith("[")) {
            int end = hostname.indexOf(']');
            return end > 0 ? hostname.substring(0, end + 1) : hostname;
        }
        int colon = hostname.lastIndexOf(':');
        return colon > 0 ? hostname.substring(0, colon) : hostname;
    }

    static boolean holdsData(JsonNode node) {
        for (JsonNode s : node.path("services")) {
            if (s.asText().equals("kv")) {
                return true;
            }
        }
        return !node.has("services"); // a server too old to list its services has kv
    }

    static ServerState state(JsonNode node) {
        String membership = node.path("clusterMembership").asText("active");
        String status = node.path("status").asText("healthy");
        if (membership.equals("inactiveFailed") || status.equals("unhealthy")) {
            return ServerState.DEAD;
        }
        if (status.equals("warmup")) {
            return ServerState.MAINTENANCE;
        }
        return ServerState.LIVE;
    }

    static ClusterSnapshot snapshot(String cluster, JsonNode poolsDefault, JsonNode buckets, Instant takenAt) {
        return snapshot(cluster, poolsDefault, buckets, Map.of(), takenAt);
    }

    /**
     * As above; where {@code activeItems} has a bucket's active items per node (the stats API's
     * {@code kv_curr_items}, by hostname), each vBucket gets the item density of the node it is active on
     * instead of the bucket's average.
     */
    /**
     * {@link #snapshot(String, JsonNode, JsonNode, Map, Instant)} for answers Tabletop does not control: an
     * answer not in the shape ns_server sends is one {@link ConnectorException} naming it, never a crash and
     * never a snapshot read halfway.
     */
    static ClusterSnapshot read(String cluster, JsonNode poolsDefault, JsonNode buckets, Map<String, Map<String, Long>> activeItems,
                                Instant takenAt) throws ConnectorException {
        if (poolsDefault == null || !poolsDefault.isObject() || !poolsDefault.path("nodes").isArray()) {
            throw new ConnectorException(Engine.COUCHBASE, "read the cluster", "/pools/default is not what Couchbase sends (an object with nodes)",
                    false, null);
        }
        if (buckets == null || !buckets.isArray()) {
            throw new ConnectorException(Engine.COUCHBASE, "read the cluster", "/pools/default/buckets is not what Couchbase sends (an array)",
                    false, null);
        }
        try {
            return snapshot(cluster, poolsDefault, buckets, activeItems, takenAt);
        } catch (RuntimeException e) {
            throw new ConnectorException(Engine.COUCHBASE, "read the cluster", "/pools/default and its buckets do not hold together "
                    + "as Couchbase's do: " + e.getMessage(), false, e);
        }
    }

    static ClusterSnapshot snapshot(String cluster, JsonNode poolsDefault, JsonNode buckets, Map<String, Map<String, Long>> activeItems,
                                    Instant takenAt) {
        JsonNode nodes = poolsDefault.path("nodes");
        List<Server> servers = new ArrayList<>();
        for (JsonNode n : nodes) {
            List<String> services = new ArrayList<>();
            n.path("services").forEach(s -> services.add(s.asText()));
            Long total = n.has("memoryTotal") ? n.path("memoryTotal").asLong() : null;
            JsonNode stats = n.path("interestingStats");
            Long used = stats.has("couch_docs_actual_disk_size") ? stats.path("couch_docs_actual_disk_size").asLong() : null;
            String group = n.path("serverGroup").asText("");
            servers.add(new Server(ServerId.of(n.path("otpNode").asText()), n.path("hostname").asText(), group.isEmpty() ? null : group,
                    state(n), null, used, null, services, holdsData(n)));
        }
        Map<String, String> byKv = otpByKvAddress(nodes);
        List<Table> tables = new ArrayList<>();
        List<Partition> partitions = new ArrayList<>();
        for (JsonNode b : buckets) {
            String name = b.path("name").asText();
            TableId id = TableId.of(name);
            String type = b.path("bucketType").asText("membase");
            int replicas = b.path("replicaNumber").asInt(0);
            tables.add(new Table(id, name, type.equals("memcached") ? 1 : replicas + 1));
            if (type.equals("memcached")) {
                continue;
            }
            JsonNode map = b.path("vBucketServerMap");
            JsonNode list = map.path("serverList");
            JsonNode rows = map.path("vBucketMap");
            int v = rows.size();
            long items = b.path("basicStats").path("itemCount").asLong(0);
            long bytes = b.path("basicStats").path("dataUsed").asLong(b.path("basicStats").path("diskUsed").asLong(0));
            long[] vbItems = itemsPerVBucket(rows, list, byKv, otpByHostname(nodes), items, activeItems.get(name));
            for (int k = 0; k < v; k++) {
                JsonNode chain = rows.get(k);
                List<Replica> reps = new ArrayList<>();
                for (int pos = 0; pos < chain.size(); pos++) {
                    int idx = chain.get(pos).asInt(-1);
                    if (idx < 0 || idx >= list.size()) {
                        continue;
                    }
                    String otp = byKv.get(list.get(idx).asText());
                    if (otp == null) {
                        continue; // a server no longer in the cluster's node list
                    }
                    reps.add(new Replica(ServerId.of(otp), pos == 0 ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER));
                }
                long byteShare = items == 0 ? bytes / v + (k < bytes % v ? 1 : 0) : Math.round((double) bytes * vbItems[k] / items);
                partitions.add(new Partition(PartitionId.of(name + "/vb" + k), id, byteShare, vbItems[k], reps));
            }
        }
        return new ClusterSnapshot(Engine.COUCHBASE, cluster, takenAt, servers, tables, partitions);
    }

    private static Map<String, String> otpByHostname(JsonNode nodes) {
        Map<String, String> out = new HashMap<>();
        nodes.forEach(n -> out.put(n.path("hostname").asText(), n.path("otpNode").asText()));
        return out;
    }

    /**
     * Items per vBucket: a node's active items spread over the vBuckets it is active for, where the stats
     * say how many it has; else the bucket's total spread over all its vBuckets.
     */
    static long[] itemsPerVBucket(JsonNode rows, JsonNode list, Map<String, String> byKv, Map<String, String> byHostname, long total,
                                  Map<String, Long> perHost) {
        int v = rows.size();
        long[] out = new long[v];
        Map<String, List<Integer>> activeOf = new HashMap<>();
        for (int k = 0; k < v; k++) {
            int idx = rows.get(k).size() > 0 ? rows.get(k).get(0).asInt(-1) : -1;
            String otp = idx >= 0 && idx < list.size() ? byKv.get(list.get(idx).asText()) : null;
            activeOf.computeIfAbsent(otp == null ? "" : otp, x -> new ArrayList<>()).add(k);
        }
        Map<String, Long> perOtp = new HashMap<>();
        if (perHost != null) {
            perHost.forEach((host, n) -> {
                String otp = byHostname.get(host);
                if (otp != null) {
                    perOtp.put(otp, n);
                }
            });
        }
        boolean known = !perOtp.isEmpty() && activeOf.keySet().stream().allMatch(o -> o.isEmpty() || perOtp.containsKey(o));
        if (!known) {
            for (int k = 0; k < v; k++) {
                out[k] = total / v + (k < total % v ? 1 : 0);
            }
            return out;
        }
        activeOf.forEach((otp, vbs) -> {
            long t = perOtp.getOrDefault(otp, 0L);
            for (int j = 0; j < vbs.size(); j++) {
                out[vbs.get(j)] = t / vbs.size() + (j < t % vbs.size() ? 1 : 0);
            }
        });
        return out;
    }

    /** The last value of each node's series in a stats-range answer ({@code kv_curr_items}), by hostname. */
    /** {@link #lastValues} for an answer Tabletop does not control: empty when it is not in the stats API's shape. */
    static java.util.Optional<Map<String, Long>> readLastValues(JsonNode statsRange) {
        try {
            return statsRange == null || !statsRange.isObject() ? java.util.Optional.empty() : java.util.Optional.of(lastValues(statsRange));
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    static Map<String, Long> lastValues(JsonNode statsRange) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (JsonNode series : statsRange.path("data")) {
            JsonNode nodes = series.path("metric").path("nodes");
            JsonNode values = series.path("values");
            if (nodes.size() == 1 && values.size() > 0) {
                JsonNode last = values.get(values.size() - 1);
                try {
                    out.put(nodes.get(0).asText(), Long.parseLong(last.get(1).asText()));
                } catch (NumberFormatException | NullPointerException e) {
                    // a gap in the series ("NaN"): leave the node out, the bucket's average is used
                }
            }
        }
        return out;
    }

    /** Copies a bucket's chains are missing (a {@code -1} where a replica or the active should be), per bucket. */
    static Map<String, int[]> missing(JsonNode buckets) {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (JsonNode b : buckets) {
            if (b.path("bucketType").asText("membase").equals("memcached")) {
                continue;
            }
            int r = b.path("replicaNumber").asInt(0);
            int noActive = 0;
            int noReplica = 0;
            for (JsonNode chain : b.path("vBucketServerMap").path("vBucketMap")) {
                if (chain.size() == 0 || chain.get(0).asInt(-1) < 0) {
                    noActive++;
                }
                for (int pos = 1; pos <= r; pos++) {
                    if (pos >= chain.size() || chain.get(pos).asInt(-1) < 0) {
                        noReplica++;
                    }
                }
            }
            out.put(b.path("name").asText(), new int[]{noActive, noReplica});
        }
        return out;
    }

    /**
     * ns_server's state in Couchbase's own words: a running rebalance or failover blocks; a node that is
     * down, warming up or failed over, or vBuckets without an active, block; missing replicas and an
     * unbalanced cluster warn.
     */
    static HealthReport health(JsonNode poolsDefault, JsonNode buckets, JsonNode rebalanceTask) {
        List<String> block = new ArrayList<>();
        List<String> warn = new ArrayList<>();
        if (rebalanceTask != null && rebalanceTask.path("status").asText().equals("running")) {
            block.add(("gracefulFailover".equals(rebalanceTask.path("subtype").asText()) ? "a graceful failover" : "a rebalance")
                    + " is running (" + Math.round(rebalanceTask.path("progress").asDouble()) + "%)");
        } else if ("running".equals(poolsDefault.path("rebalanceStatus").asText())) {
            block.add("a rebalance is running");
        }
        for (JsonNode n : poolsDefault.path("nodes")) {
            String who = n.path("hostname").asText();
            String membership = n.path("clusterMembership").asText("active");
            String status = n.path("status").asText("healthy");
            if (membership.equals("inactiveFailed")) {
                warn.add(who + " is failed over: the next rebalance ejects it");
            } else if (membership.equals("inactiveAdded")) {
                warn.add(who + " was added and is not rebalanced in yet: the next rebalance fills it");
            }
            if (status.equals("unhealthy") && !membership.equals("inactiveFailed")) {
                block.add(who + " is unhealthy (down or unreachable): fail it over first");
            } else if (status.equals("warmup")) {
                block.add(who + " is warming up (its buckets are not all ready)");
            }
            if ("unfinished".equals(n.path("failoverStatus").asText())) {
                block.add(who + ": an interrupted failover is pending");
            }
        }
        missing(buckets).forEach((bucket, m) -> {
            if (m[0] > 0) {
                block.add("bucket " + bucket + ": " + m[0] + " vBucket(s) have no active copy");
            }
            if (m[1] > 0) {
                warn.add("bucket " + bucket + ": " + m[1] + " replica copies missing");
            }
        });
        if (poolsDefault.has("balanced") && !poolsDefault.path("balanced").asBoolean(true)) {
            warn.add("the cluster reports balanced: false (a rebalance is recommended)");
        }
        int nodes = poolsDefault.path("nodes").size();
        if (!block.isEmpty()) {
            List<String> all = new ArrayList<>(block);
            all.addAll(warn);
            return new HealthReport(Verdict.BLOCK, block.size() + " problem(s) block a rebalance", all);
        }
        if (!warn.isEmpty()) {
            return new HealthReport(Verdict.WARN, nodes + " nodes; " + warn.size() + " warning(s)", warn);
        }
        return new HealthReport(Verdict.PASS, nodes + " nodes healthy and active; every vBucket has its copies", List.of());
    }
}
