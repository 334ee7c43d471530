package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.Verdict;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code kudu cluster ksck --ksck_format=json_compact} says, read as a health verdict: ksck's own
 * errors and unhealthy servers and tablets, plus one check ksck lacks (a tablet with more voters than its
 * replication factor, which Kudu 1.17 leaves after an interrupted leader move and ksck calls HEALTHY:
 * research/kudu.md 5.3), and one it is too strict about (servers down that hold no replica). Pure.
 */
final class KuduKsck {
    private KuduKsck() {
    }

    /** ksck's exit code and JSON as a verdict, its summary, and ksck's own messages (with the over-replicated tablets ksck misses). */
    /** {@link #health(int, JsonNode)} for an answer Tabletop does not control: a bad shape is one clear error. */
    static HealthReport read(int rc, JsonNode json) throws io.tabletop.connector.ConnectorException {
        if (json == null || !json.isObject()) {
            throw new io.tabletop.connector.ConnectorException(io.tabletop.domain.Engine.KUDU, "cluster ksck", "ksck's JSON is not an object", false, null);
        }
        try {
            return health(rc, json);
        } catch (RuntimeException e) {
            throw new io.tabletop.connector.ConnectorException(io.tabletop.domain.Engine.KUDU, "cluster ksck",
                    "ksck's JSON is not in the shape Kudu 1.17 writes: " + e.getMessage(), false, e);
        }
    }

    static HealthReport health(int rc, JsonNode json) {
        List<String> details = new ArrayList<>();
        for (JsonNode e : json.path("errors")) {
            details.add(e.asText());
        }
        for (JsonNode ts : json.path("tserver_summaries")) {
            if (!"HEALTHY".equals(ts.path("health").asText())) {
                details.add("Tablet server " + ts.path("uuid").asText() + " (" + ts.path("address").asText() + ") is "
                        + ts.path("health").asText() + ": " + ts.path("status").asText());
            }
        }
        int listed = 0;
        for (JsonNode t : json.path("tablet_summaries")) {
            if (!"HEALTHY".equals(t.path("health").asText()) && listed++ < 5) {
                details.add(t.path("status").asText("Tablet " + t.path("id").asText() + " is " + t.path("health").asText()));
            }
        }
        List<String> over = overReplicated(json).stream().map(OverReplicated::message).toList();
        details.addAll(over);
        int tablets = json.path("tablet_summaries").size();
        int servers = json.path("tserver_summaries").size();
        boolean onlyEmptyDead = rc != 0 && onlyEmptyServersDown(json);
        Verdict v = rc != 0 ? (onlyEmptyDead ? Verdict.WARN : Verdict.BLOCK) : over.isEmpty() ? Verdict.PASS : Verdict.WARN;
        String summary = (rc != 0 ? (onlyEmptyDead ? "ksck reports down tablet servers that hold no replicas; every tablet is healthy"
                : "ksck FAILED") : over.isEmpty() ? "ksck OK" : "ksck OK, but " + over.size()
                + " tablet(s) have more voters than their replication factor") + ": " + servers + " tablet servers, " + tablets + " tablets";
        return new HealthReport(v, summary, details);
    }

    /**
     * Whether ksck's only complaints are tablet servers that are down but hold no replica in any tablet's
     * config (a server that died and whose copies were rebuilt elsewhere): every tablet healthy.
     */
    static boolean onlyEmptyServersDown(JsonNode ksck) {
        Set<String> holding = new HashSet<>();
        for (JsonNode t : ksck.path("tablet_summaries")) {
            if (!"HEALTHY".equals(t.path("health").asText())) {
                return false;
            }
            t.path("master_cstate").path("voter_uuids").forEach(u -> holding.add(u.asText()));
            t.path("master_cstate").path("non_voter_uuids").forEach(u -> holding.add(u.asText()));
        }
        boolean anyDown = false;
        for (JsonNode ts : ksck.path("tserver_summaries")) {
            if (!"HEALTHY".equals(ts.path("health").asText())) {
                anyDown = true;
                if (holding.contains(ts.path("uuid").asText())) {
                    return false;
                }
            }
        }
        return anyDown && ksck.path("master_summaries").findValues("health").stream().allMatch(h -> "HEALTHY".equals(h.asText()));
    }

    /** A tablet whose committed config has more voters than its table's replication factor. */
    record OverReplicated(String tablet, String message) {
    }

    /** Tablets with more voters than their table's RF, which ksck calls healthy (research/kudu.md 5.3). */
    static List<OverReplicated> overReplicated(JsonNode ksck) {
        Map<String, Integer> rf = new HashMap<>();
        for (JsonNode t : ksck.path("table_summaries")) {
            rf.put(t.path("id").asText(), t.path("replication_factor").asInt());
        }
        List<OverReplicated> out = new ArrayList<>();
        for (JsonNode t : ksck.path("tablet_summaries")) {
            int voters = t.path("master_cstate").path("voter_uuids").size();
            Integer want = rf.get(t.path("table_id").asText());
            if (want != null && voters > want) {
                String id = t.path("id").asText();
                out.add(new OverReplicated(id, "Tablet " + id + " of " + t.path("table_name").asText() + " has " + voters
                        + " voters, more than its replication factor " + want));
            }
        }
        return out;
    }

    /** The ids of {@link #overReplicated}'s tablets. */
    static List<String> overReplicatedIds(JsonNode ksck) {
        return overReplicated(ksck).stream().map(OverReplicated::tablet).toList();
    }

    /**
     * The ids of {@link #overReplicated}'s tablets whose voters all sit on tablet servers ksck calls HEALTHY:
     * the ones a leader step-down repairs. One with a voter on a server that is down waits for Kudu's own
     * re-replication; stepping its leader down does nothing (research/kudu.md 5.3).
     */
    static List<String> repairableOverReplicatedIds(JsonNode ksck) {
        Set<String> healthy = new HashSet<>();
        for (JsonNode ts : ksck.path("tserver_summaries")) {
            if ("HEALTHY".equals(ts.path("health").asText())) {
                healthy.add(ts.path("uuid").asText());
            }
        }
        Set<String> over = new HashSet<>(overReplicatedIds(ksck));
        List<String> out = new ArrayList<>();
        for (JsonNode t : ksck.path("tablet_summaries")) {
            String id = t.path("id").asText();
            if (!over.contains(id)) {
                continue;
            }
            boolean allHealthy = true;
            for (JsonNode u : t.path("master_cstate").path("voter_uuids")) {
                allHealthy &= healthy.contains(u.asText());
            }
            if (allHealthy) {
                out.add(id);
            }
        }
        return out;
    }
}
