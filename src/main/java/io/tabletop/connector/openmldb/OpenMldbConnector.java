package io.tabletop.connector.openmldb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * OpenMLDB through its nameserver's RPCs over HTTP+JSON (research/openmldb.md), without {@code ns_client}:
 * a leader transfer is {@code ChangeLeader} to the chosen follower and {@code RecoverTable} of the old leader
 * (which ChangeLeader leaves stale), a move is {@code Migrate} of a follower, and each op is followed with
 * {@code ShowOPStatus} until it is done (kFailed stops the step naming the task it failed at). Stopping a
 * tablet is the operator's: the step shows the command and waits until the nameserver sees it offline.
 * {@code auto_failover} is turned off for a run and set back after it ({@link #prepareRun}). Thread-safe.
 */
public final class OpenMldbConnector implements ClusterConnector {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String name;
    private final OpenMldbRpc rpc;
    private final AutoCloseable zk;
    private final EngineCapabilities caps = EngineCapabilities.openmldb();

    OpenMldbConnector(String name, OpenMldbRpc rpc, AutoCloseable zk) throws ConnectorException {
        this.name = name;
        this.rpc = rpc;
        this.zk = zk;
        rpc.ok("ShowTablet", JSON.createObjectNode()); // fails here, in one line, on a wrong password or no leader
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Engine engine() {
        return Engine.OPENMLDB;
    }

    @Override
    public EngineCapabilities capabilities() {
        return caps;
    }

    @Override
    public ClusterSnapshot snapshot() throws ConnectorException {
        JsonNode tablets = rpc.ok("ShowTablet", JSON.createObjectNode());
        JsonNode tables = rpc.ok("ShowTable", JSON.createObjectNode().put("show_all", true));
        return OpenMldbTopology.read(name, tablets, tables, Instant.now());
    }

    @Override
    public HealthReport health() throws ConnectorException {
        return OpenMldbTopology.readHealth(rpc.ok("ShowTablet", JSON.createObjectNode()),
                rpc.ok("ShowTable", JSON.createObjectNode().put("show_all", true)), rpc.ok("ShowOPStatus", JSON.createObjectNode()), autoFailover());
    }

    private boolean autoFailover() throws ConnectorException {
        for (JsonNode p : rpc.ok("ConfGet", JSON.createObjectNode()).path("conf")) {
            if (p.path("key").asText().equals("auto_failover")) {
                return p.path("value").asText().equalsIgnoreCase("true");
            }
        }
        return false;
    }

    /** Records per table ({@code record_cnt} summed over partitions), for the post-checks. */
    @Override
    public Optional<Map<String, Long>> rowCounts() throws ConnectorException {
        Map<String, Long> out = new TreeMap<>();
        snapshot().partitions().forEach(p -> out.merge(p.table().value(), p.rowsOrZero(), Long::sum));
        return Optional.of(out);
    }

    /** Migrate, ChangeLeader and RecoverTable are refused while auto_failover is on (code 301): off for the run. */
    @Override
    public Map<String, String> prepareRun() throws ConnectorException {
        if (!autoFailover()) {
            return Map.of();
        }
        rpc.ok("ConfSet", setting("false"));
        return Map.of("auto_failover", "true");
    }

    @Override
    public void restoreAfterRun(Map<String, String> settings) throws ConnectorException {
        String v = settings.get("auto_failover");
        if (v != null) {
            rpc.ok("ConfSet", setting(v));
        }
    }

    private static ObjectNode setting(String value) {
        ObjectNode o = JSON.createObjectNode();
        o.putObject("conf").put("key", "auto_failover").put("value", value);
        return o;
    }

    @Override
    public String command(Step s) {
        return switch (s.type()) {
            case TRANSFER_LEADER -> {
                String[] p = OpenMldbTopology.parts(s.partition());
                yield s.partition().value() + ": POST /NameServer/ChangeLeader " + request(p).put("candidate_leader", s.to().value()) + "; POST /NameServer/RecoverTable "
                        + request(p).put("endpoint", s.from().value());
            }
            case MOVE_REPLICA -> s.partition().value() + ": POST /NameServer/Migrate " + migrate(s);
            case STOP_SERVER -> "on " + s.server().value() + ": bash bin/start.sh stop tablet (the operator's); then ShowTablet until it is kOffline";
            case HEALTH_GATE -> "ShowTablet, ShowTable, ShowOPStatus, ConfGet (health)";
            default -> "openmldb: no such operation: " + s.type().label() + (s.partition() == null ? "" : " " + s.partition().value());
        };
    }

    private static ObjectNode request(String[] p) {
        return JSON.createObjectNode().put("name", p[1]).put("pid", Integer.parseInt(p[2])).put("db", p[0]);
    }

    private static ObjectNode migrate(Step s) {
        String[] p = OpenMldbTopology.parts(s.partition());
        ObjectNode o = JSON.createObjectNode().put("src_endpoint", s.from().value()).put("name", p[1]);
        o.putArray("pid").add(Integer.parseInt(p[2]));
        return o.put("des_endpoint", s.to().value()).put("db", p[0]);
    }

    @Override
    public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        switch (step.type()) {
            case TRANSFER_LEADER -> {
                String[] p = OpenMldbTopology.parts(step.partition());
                long before = lastOp(p);
                progress.update(0.05, "ChangeLeader to " + step.to());
                rpc.ok("ChangeLeader", request(p).put("candidate_leader", step.to().value()));
                before = waitOps(p, before, progress, 0.05, 0.5);
                progress.update(0.5, "RecoverTable of " + step.from() + " (left stale by ChangeLeader)");
                JsonNode r = rpc.call("RecoverTable", request(p).put("endpoint", step.from().value()));
                if (r.path("code").asInt() != 0 && r.path("code").asInt() != 311) { // 311: alive already, nothing to recover
                    throw OpenMldbRpc.refused("RecoverTable", r);
                }
                waitOps(p, before, progress, 0.5, 1.0);
            }
            case MOVE_REPLICA -> {
                String[] p = OpenMldbTopology.parts(step.partition());
                if (onlyReplicaLeads(p, step.from().value())) {
                    moveOnlyReplica(step, p, progress);
                    return;
                }
                long before = lastOp(p);
                progress.update(0.02, "Migrate " + step.from() + " → " + step.to());
                rpc.ok("Migrate", migrate(step));
                waitOps(p, before, progress, 0.02, 1.0);
            }
            case STOP_SERVER -> waitOffline(step, progress);
            case HEALTH_GATE -> {
                HealthReport h = health();
                if (h.verdict() == Verdict.BLOCK) {
                    throw new ConnectorException(Engine.OPENMLDB, "health gate", h.summary() + ": " + String.join("; ", h.details()), true, null);
                }
            }
            default -> throw new ConnectorException(Engine.OPENMLDB, step.describe(), "OpenMLDB has no such operation");
        }
    }

    /** Whether the partition's only alive replica is the leader on {@code from} (Migrate cannot move it). */
    private boolean onlyReplicaLeads(String[] p, String from) throws ConnectorException {
        JsonNode tables = rpc.ok("ShowTable", JSON.createObjectNode().put("name", p[1]).put("db", p[0]));
        for (JsonNode ti : tables.path("table_info")) {
            for (JsonNode tp : ti.path("table_partition")) {
                if (tp.path("pid").asInt() != Integer.parseInt(p[2])) {
                    continue;
                }
                int alive = 0;
                boolean leads = false;
                for (JsonNode m : tp.path("partition_meta")) {
                    if (m.path("is_alive").asBoolean(true)) {
                        alive++;
                        leads |= m.path("endpoint").asText().equals(from) && m.path("is_leader").asBoolean(false);
                    }
                }
                return alive == 1 && leads;
            }
        }
        return false;
    }

    /**
     * The only replica of a partition moves as {@code openmldb_ops.py} moves it (research §4.2): a second
     * replica on the destination ({@code AddReplicaNS}), leadership to it ({@code ChangeLeader}), the old
     * leader back as a follower ({@code RecoverTable}: {@code DelReplicaNS} refuses a row still flagged
     * leader), then the old one dropped ({@code DelReplicaNS}). Each is audited as it is made.
     */
    private void moveOnlyReplica(Step step, String[] p, StepProgress progress) throws ConnectorException, InterruptedException {
        String from = step.from().value();
        String to = step.to().value();
        progress.action("move the only replica of " + step.partition().value() + " through a second one on " + to,
                "POST /NameServer/AddReplicaNS " + request(p).put("endpoint", to) + "; ChangeLeader " + request(p).put("candidate_leader", to)
                        + "; RecoverTable " + request(p).put("endpoint", from) + "; DelReplicaNS " + request(p).put("endpoint", from));
        long before = lastOp(p);
        progress.update(0.02, "AddReplicaNS on " + to);
        rpc.ok("AddReplicaNS", request(p).put("endpoint", to));
        before = waitOps(p, before, progress, 0.02, 0.6);
        progress.update(0.6, "ChangeLeader to " + to + " (the partition is briefly unavailable)");
        rpc.ok("ChangeLeader", request(p).put("candidate_leader", to));
        before = waitOps(p, before, progress, 0.6, 0.75);
        progress.update(0.75, "RecoverTable of " + from);
        rpc.ok("RecoverTable", request(p).put("endpoint", from));
        before = waitOps(p, before, progress, 0.75, 0.9);
        progress.update(0.9, "DelReplicaNS on " + from);
        rpc.ok("DelReplicaNS", request(p).put("endpoint", from));
        waitOps(p, before, progress, 0.9, 1.0);
    }

    private long lastOp(String[] p) throws ConnectorException {
        long max = 0;
        for (JsonNode op : rpc.ok("ShowOPStatus", request(p)).path("op_status")) {
            max = Math.max(max, op.path("op_id").asLong());
        }
        return max;
    }

    /**
     * Follows the ops of one partition started after op {@code after} (a RecoverTable starts a child op with
     * a higher id before it ends: research §4.1) until none is kInited or kDoing; kFailed or kCanceled end
     * the step with the op's type and the task it stopped at. Returns the highest op id seen.
     */
    private long waitOps(String[] p, long after, StepProgress progress, double from, double to) throws ConnectorException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long last = after;
        while (true) {
            boolean any = false;
            boolean busy = false;
            for (JsonNode op : rpc.ok("ShowOPStatus", request(p)).path("op_status")) {
                long id = op.path("op_id").asLong();
                if (id <= after) {
                    continue;
                }
                any = true;
                last = Math.max(last, id);
                String st = op.path("status").asText();
                if (st.equals("kFailed") || st.equals("kCanceled")) {
                    throw new ConnectorException(Engine.OPENMLDB, op.path("op_type").asText() + " of " + OpenMldbTopology.tableId(p[0], p[1]) + "/" + p[2],
                            "op " + id + " " + (st.equals("kFailed") ? "failed at task " : "was cancelled at task ") + op.path("task_type").asText()
                                    + "; the run stops here (look at the tablet's log, fix it, delete the op, then resume)",
                            ConnectorException.Kind.REFUSED, null);
                }
                if (st.equals("kInited") || st.equals("kDoing")) {
                    busy = true;
                    progress.update(from + (to - from) * 0.5, "op " + id + " " + op.path("op_type").asText() + ": " + op.path("task_type").asText());
                }
            }
            if (any && !busy) {
                progress.update(to, "done");
                return last;
            }
            if (!any && System.nanoTime() > deadline) {
                throw new ConnectorException(Engine.OPENMLDB, "ShowOPStatus", "the nameserver accepted the request but shows no op for "
                        + OpenMldbTopology.tableId(p[0], p[1]) + "/" + p[2] + " after 30 s", ConnectorException.Kind.OUTCOME_UNKNOWN, null);
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
    }

    /** The operator stops the tablet; done when the nameserver lists it offline (or no longer lists it). */
    private void waitOffline(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        String ep = step.server().value();
        progress.update(0.1, "waiting for the operator to stop the tablet: on " + ep + " run: bash bin/start.sh stop tablet");
        while (true) {
            boolean healthy = false;
            for (JsonNode t : rpc.ok("ShowTablet", JSON.createObjectNode()).path("tablets")) {
                healthy |= t.path("endpoint").asText().equals(ep) && "kHealthy".equals(t.path("state").asText());
            }
            if (!healthy) {
                progress.update(1, ep + " is offline");
                return;
            }
            if (progress.cancelRequested()) {
                throw new ConnectorException(Engine.OPENMLDB, step.describe(), "cancelled while waiting for the tablet to stop",
                        ConnectorException.Kind.STOPPED, null);
            }
            TimeUnit.SECONDS.sleep(1);
        }
    }

    @Override
    public void close() {
        rpc.close();
        try {
            zk.close();
        } catch (Exception e) {
            // closing a ZooKeeper session: nothing left to do
        }
    }
}
