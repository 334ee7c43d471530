package io.tabletop.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.Step;
import io.tabletop.domain.Table;
import io.tabletop.planner.BucketForecast;
import io.tabletop.planner.Goal;
import io.tabletop.planner.Phase;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Rebalance;
import io.tabletop.planner.RemoveServers;
import io.tabletop.planner.Restore;
import io.tabletop.planner.ScaleOut;

import java.util.ArrayList;
import java.util.List;

/** The plan interchange format (README, "Plan JSON"). Written, for review and for scripts. */
public final class PlanJson {
    private PlanJson() {
    }

    public static String write(Plan plan) {
        try {
            return SnapshotJson.MAPPER.writeValueAsString(toTree(plan));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A goal as JSON: {"type": "REMOVE_SERVERS" | "REBALANCE" | "SCALE_OUT", ...}. */
    public static ObjectNode goalToTree(Goal g) {
        ObjectNode goal = SnapshotJson.MAPPER.createObjectNode();
        if (g instanceof RemoveServers r) {
            goal.put("type", "REMOVE_SERVERS");
            ArrayNode ids = goal.putArray("servers");
            r.servers().forEach(id -> ids.add(id.value()));
            goal.put("balanceLeaders", r.balanceLeaders());
            goal.put("fillLimit", r.fillLimit());
            goal.put("strategy", r.strategy().name());
            if (!r.rebuild().isEmpty()) {
                ArrayNode rb = goal.putArray("rebuild");
                r.rebuild().forEach(id -> rb.add(id.value()));
            }
        } else if (g instanceof Rebalance r) {
            goal.put("type", "REBALANCE");
            if (r.maxMoves() != Integer.MAX_VALUE) {
                goal.put("maxMoves", r.maxMoves());
            }
            goal.put("balanceLeaders", r.balanceLeaders());
        } else if (g instanceof Restore r) {
            goal.put("type", "RESTORE");
            goal.put("label", r.label());
            goal.put("cluster", r.target().cluster());
        } else if (g instanceof ScaleOut o) {
            goal.put("type", "SCALE_OUT");
            ArrayNode ids = goal.putArray("servers");
            o.newServers().forEach(id -> ids.add(id.value()));
            goal.put("balanceLeaders", o.balanceLeaders());
        }
        return goal;
    }

    /** The goal written by {@link #goalToTree}. */
    public static Goal readGoal(JsonNode n, String source) throws FormatException {
        try {
            String type = n.path("type").asText("");
            List<ServerId> ids = new ArrayList<>();
            n.path("servers").forEach(x -> ids.add(ServerId.of(x.asText())));
            boolean leaders = n.path("balanceLeaders").asBoolean(true);
            return switch (type) {
                case "REMOVE_SERVERS" -> {
                    List<ServerId> rebuild = new ArrayList<>();
                    n.path("rebuild").forEach(x -> rebuild.add(ServerId.of(x.asText())));
                    yield new RemoveServers(ids, leaders, n.path("fillLimit").asDouble(RemoveServers.DEFAULT_FILL_LIMIT),
                            RemoveServers.Strategy.valueOf(n.path("strategy").asText("TABLETOP")), rebuild);
                }
                case "REBALANCE" -> new Rebalance(n.has("maxMoves") ? n.get("maxMoves").asInt() : Integer.MAX_VALUE, leaders);
                case "SCALE_OUT" -> new ScaleOut(ids, leaders);
                case "RESTORE" -> throw new FormatException(source + ": a restore is not resumed; plan it again with tabletop restore");
                default -> throw new FormatException(source + ": unknown goal type '" + type + "'");
            };
        } catch (IllegalArgumentException e) {
            throw new FormatException(source + ": bad goal: " + e.getMessage());
        }
    }

    public static ObjectNode toTree(Plan plan) {
        ObjectNode root = SnapshotJson.MAPPER.createObjectNode();
        root.put("engine", plan.before().engine().wireName());
        root.put("cluster", plan.before().cluster());
        if (plan.before().takenAt() != null) {
            root.put("snapshotTakenAt", plan.before().takenAt().toString());
        }
        root.set("goal", goalToTree(plan.goal()));
        Plan.Summary s = plan.summary();
        root.putObject("summary")
                .put("replicaMoves", s.replicaMoves())
                .put("leaderTransfers", s.leaderTransfers())
                .put("bytesToMove", s.bytesToMove())
                .put("estimatedSeconds", Math.round(s.estimatedSeconds() * 10) / 10.0)
                .put("maxMovesPerServer", s.maxMovesPerServer())
                .put("steps", plan.steps().size());
        ArrayNode phases = root.putArray("phases");
        for (Phase p : plan.phases()) {
            ObjectNode n = phases.addObject().put("index", p.index()).put("title", p.title());
            ArrayNode ids = n.putArray("servers");
            p.servers().forEach(id -> ids.add(id.value()));
        }
        ArrayNode checks = root.putArray("checks");
        for (CheckResult c : plan.checks()) {
            checks.addObject().put("name", c.name()).put("verdict", c.verdict().name()).put("message", c.message());
        }
        ArrayNode steps = root.putArray("steps");
        for (Step st : plan.steps()) {
            ObjectNode n = steps.addObject();
            n.put("index", st.index());
            n.put("phase", st.phase());
            n.put("type", st.type().name());
            if (st.partition() != null) {
                n.put("partition", st.partition().value());
                n.put("table", st.table().value());
            }
            if (st.from() != null) {
                n.put("from", st.from().value());
                n.put("to", st.to().value());
            }
            if (st.server() != null) {
                n.put("server", st.server().value());
            }
            if (st.servers().size() > 1) {
                st.servers().forEach(id -> n.withArray("servers").add(id.value()));
            }
            if (st.bytes() > 0) {
                n.put("bytes", st.bytes());
            }
            n.put("reason", st.reason());
        }
        ObjectNode predicted = root.putObject("predicted");
        ArrayNode servers = predicted.putArray("servers");
        for (ServerLoad l : plan.loadsAfter().values()) {
            servers.addObject().put("server", l.server().value()).put("replicas", l.replicas()).put("leaders", l.leaders())
                    .put("bytes", l.bytes()).put("rows", l.rows()).put("replicaRows", l.replicaRows());
        }
        ArrayNode tables = predicted.putArray("tables");
        for (Table t : plan.after().tables()) {
            int effective = plan.forecast().stream().filter(f -> f.bucket().equals(t.id())).findFirst()
                    .map(f -> f.replicasKept() + 1).orElse(t.replicationFactor());
            tables.addObject().put("table", t.id().value()).put("name", t.name())
                    .put("replicationFactor", t.replicationFactor()).put("effectiveReplicationFactor", effective);
        }
        ArrayNode removed = predicted.putArray("removedServers");
        plan.removedServers().stream().map(ServerId::value).forEach(removed::add);
        if (!plan.forecast().isEmpty()) {
            ArrayNode buckets = predicted.putArray("buckets");
            for (BucketForecast f : plan.forecast()) {
                ObjectNode b = buckets.addObject().put("bucket", f.bucket().value()).put("name", f.name())
                        .put("vBuckets", f.vbuckets()).put("replicas", f.replicasWanted()).put("replicasKept", f.replicasKept())
                        .put("copiesToBuild", f.copiesToBuild()).put("takeovers", f.takeovers());
                ArrayNode nodes = b.putArray("nodes");
                for (BucketForecast.Node n : f.nodes()) {
                    ObjectNode o = nodes.addObject().put("server", n.server().value()).put("leaves", n.leaves());
                    o.putObject("before").put("activeVBuckets", n.activeBefore()).put("replicaVBuckets", n.replicasBefore())
                            .put("activeItems", n.activeItemsBefore()).put("replicaItems", n.replicaItemsBefore());
                    o.putObject("after").put("activeVBuckets", n.activeAfter()).put("replicaVBuckets", n.replicasAfter())
                            .put("activeItems", n.activeItemsAfter()).put("replicaItems", n.replicaItemsAfter());
                }
            }
        }
        return root;
    }
}
