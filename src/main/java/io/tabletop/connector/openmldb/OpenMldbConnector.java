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

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * OpenMLDB through its nameserver's RPCs over HTTP+JSON (src/docs/openmldb.md), without {@code ns_client}.
 * Each step reads the partition's rows ({@code ShowTable}) and sends the one call that brings it closer to the
 * step's end, then reads again, so a retry or a resume starts from what is true and never repeats a call
 * whose effect is there: a leader transfer is {@code ChangeLeader} (the named follower only when it has
 * caught up, else {@code "auto"}) and {@code RecoverTable} of the stale row it leaves; a move is
 * {@code Migrate} of a follower (after those two where the source leads). No call is sent beside a running
 * op of the same partition, at most {@link #DEFAULT_QUEUES} are in flight (the nameserver's task queues),
 * and every step's ops are followed through one shared {@code ShowOPStatus} reading ({@link OpenMldbOps}),
 * cancellable, with a limit naming the op and task that does not move. Stopping a tablet is the operator's:
 * the step shows the command and waits until the nameserver sees it offline. {@code auto_failover} is
 * turned off for a run and set back after it ({@link #prepareRun}). Thread-safe.
 */
public final class OpenMldbConnector implements ClusterConnector {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String name;
    private final OpenMldbRpc rpc;
    private final AutoCloseable zk;
    private final EngineCapabilities caps = EngineCapabilities.openmldb();
    /** Calls that sent nothing new when the partition already showed what they ask, or were retried: at most this many per step. */
    static final int MAX_ROUNDS = 8;
    /** How often a failed RecoverTable is sent again before the step fails. */
    static final int RECOVER_TRIES = 3;
    /**
     * The nameserver's task queues ({@code name_server_task_concurrency}, 2 by default: src/docs/openmldb.md):
     * ops beyond them wait kInited, so no more calls than that are in flight from one connector.
     */
    static final int DEFAULT_QUEUES = 2;
    /** How long one op may stay on one task before its step stops waiting (the nameserver's own limit, which only logs: 2 h). */
    static final Duration DEFAULT_OP_STALL = Duration.ofHours(2);
    /** How often ShowOPStatus is read for all the steps of the connector. */
    static final Duration DEFAULT_POLL = Duration.ofSeconds(1);
    private final OpenMldbOps ops;
    private final int queueCount;
    private final Semaphore queues;
    private final Duration opStall;

    OpenMldbConnector(String name, OpenMldbRpc rpc, AutoCloseable zk) throws ConnectorException {
        this(name, rpc, zk, DEFAULT_QUEUES, DEFAULT_POLL, DEFAULT_OP_STALL);
    }

    OpenMldbConnector(String name, OpenMldbRpc rpc, AutoCloseable zk, int queueCount, Duration poll, Duration opStall) throws ConnectorException {
        this.name = name;
        this.rpc = rpc;
        this.zk = zk;
        this.queueCount = queueCount;
        this.queues = new Semaphore(queueCount, true);
        this.opStall = opStall;
        this.ops = new OpenMldbOps(rpc, poll);
        rpc.ok("ShowTablet", JSON.createObjectNode()); // fails here, in one line, when no nameserver answers as leader or it refuses us
    }

    /** ShowOPStatus calls made for the steps so far (one reading shared by every step). */
    long opReads() {
        return ops.calls();
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

    /** What OpenMLDB's own CLI says of a leader change (src/cmd/openmldb.cc:955, v0.9.3), and what Tabletop does about it. */
    static final String LEADER_CHANGE_WARNING = "OpenMLDB: \"If there are writing operations while changing a leader, it may cause "
            + "data loss.\"";

    @Override
    public String stepRisk(StepType type) {
        return switch (type) {
            case TRANSFER_LEADER -> LEADER_CHANGE_WARNING + " Tabletop names the planned follower only when its offset has caught up "
                    + "with the leader's, else lets the nameserver pick the follower with the highest offset; the old leader's copy is "
                    + "recovered as a follower (RecoverTable), during which the partition has one serving copy fewer.";
            case MOVE_REPLICA -> "a move copies a snapshot and the binlog to the new tablet (Migrate), then drops the old copy; where the "
                    + "source leads, a leader change comes first (" + LEADER_CHANGE_WARNING + "); the only replica of a partition moves "
                    + "through a second copy, and the partition cannot be read or written while leadership changes.";
            case STOP_SERVER -> "the tablet is stopped by the operator: with auto_failover off for the run, the nameserver changes nothing "
                    + "when it goes.";
            default -> "";
        };
    }

    @Override
    public String restoreCommand(Map<String, String> settings) {
        String v = settings.get("auto_failover");
        return v == null ? "" : "in ns_client (openmldb --role=ns_client --zk_cluster=... --zk_root_path=...): confset auto_failover " + v;
    }

    /** The ops a step of each kind sends, with the child ops of RecoverTable (tablet.proto's OPType, v0.9.3). */
    private static final java.util.Set<String> HAND_OVER_OPS = java.util.Set.of("kChangeLeaderOP", "kRecoverTableOP", "kReAddReplicaOP",
            "kReAddReplicaNoSendOP", "kReAddReplicaWithDropOP", "kReAddReplicaSimplifyOP");
    private static final java.util.Set<String> MOVE_OPS;

    static {
        java.util.Set<String> m = new java.util.HashSet<>(HAND_OVER_OPS);
        m.addAll(List.of("kMigrateOP", "kAddReplicaOP", "kDelReplicaOP"));
        MOVE_OPS = java.util.Set.copyOf(m);
    }

    /**
     * Follows the ops that the nameserver still runs for the stopped run's steps in flight (they go on
     * without the process that started them), through the shared reading, until each has ended. An op of
     * such a partition of a type none of those steps sends (an OfflineEndpoint's, a DBA's own) is refused as
     * someone else's.
     */
    @Override
    public List<String> awaitLeftRunning(List<Step> steps, StepProgress progress) throws ConnectorException, InterruptedException {
        OpenMldbOps.Reading now = ops.fresh(progress);
        if (now == null) {
            return List.of();
        }
        Map<io.tabletop.domain.PartitionId, java.util.Set<String>> mine = new java.util.LinkedHashMap<>();
        for (Step s : steps) {
            if (s.partition() != null && (s.type() == StepType.MOVE_REPLICA || s.type() == StepType.TRANSFER_LEADER)) {
                mine.computeIfAbsent(s.partition(), k -> new java.util.HashSet<>())
                        .addAll(s.type() == StepType.MOVE_REPLICA ? MOVE_OPS : HAND_OVER_OPS);
            }
        }
        List<String> out = new ArrayList<>();
        int done = 0;
        for (var e : mine.entrySet()) {
            String[] p = OpenMldbTopology.parts(e.getKey());
            List<OpenMldbOps.Op> running = now.of(p).stream().filter(OpenMldbOps.Op::running).toList();
            for (OpenMldbOps.Op op : running) {
                if (!e.getValue().contains(op.type())) {
                    throw new ConnectorException(Engine.OPENMLDB, "resume", op.describe() + " runs, and no step the run had in flight "
                            + "sends a " + op.type() + ": someone else's op; wait until it ends, then resume", ConnectorException.Kind.REFUSED, null);
                }
            }
            if (!running.isEmpty()) {
                long first = running.stream().mapToLong(OpenMldbOps.Op::id).min().orElse(0);
                double at = (double) done / mine.size();
                progress.update(at, "waiting for " + running.get(0).describe() + ", left running by the stopped run");
                OpenMldbOps.Ended ended = ops.await(p, first - 1, now.readAtNanos(), opStall, progress, at, (double) (done + 1) / mine.size());
                for (OpenMldbOps.Op op : ended.ops()) {
                    out.add(op.describe());
                }
            }
            done++;
        }
        progress.update(1, out.isEmpty() ? "nothing left running" : out.size() + " op(s) followed to their end");
        return out;
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
                yield s.partition().value() + ": POST /NameServer/ChangeLeader " + request(p).put("candidate_leader", s.to().value())
                        + " (or \"auto\" when " + s.to().value() + " lags the leader); POST /NameServer/RecoverTable " + request(p).put("endpoint", s.from().value());
            }
            case MOVE_REPLICA -> s.partition().value() + ": POST /NameServer/Migrate " + migrate(s)
                    + " (first RecoverTable of a row not alive, ChangeLeader \"auto\" where the source leads, AddReplicaNS + DelReplicaNS for an only replica)";
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
            case TRANSFER_LEADER -> handOver(step, progress);
            case MOVE_REPLICA -> move(step, progress);
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

    /** One {@code partition_meta} row: {@code offset} is null until the nameserver's status refresh has read it. */
    record Row(String endpoint, boolean leader, boolean alive, Long offset) {
    }

    /** One partition as ShowTable lists it now: its rows, and its table's {@code replica_num}. */
    record Read(List<Row> rows, int replicaNum) {
    }

    /** The rows of one partition, as ShowTable lists them now (only the table of that exact database). */
    List<Row> rows(String[] p) throws ConnectorException {
        return read(p).rows();
    }

    private Read read(String[] p) throws ConnectorException {
        // ShowTable {name, db} also lists a legacy default-database table of the same name (src/docs/openmldb.md)
        JsonNode tables = rpc.ok("ShowTable", JSON.createObjectNode().put("name", p[1]).put("db", p[0]));
        for (JsonNode ti : tables.path("table_info")) {
            if (!ti.path("db").asText("").equals(p[0]) || !ti.path("name").asText().equals(p[1])) {
                continue;
            }
            for (JsonNode tp : ti.path("table_partition")) {
                if (tp.path("pid").asInt() != Integer.parseInt(p[2])) {
                    continue;
                }
                List<Row> out = new ArrayList<>();
                for (JsonNode m : tp.path("partition_meta")) {
                    out.add(new Row(m.path("endpoint").asText(), m.path("is_leader").asBoolean(false), m.path("is_alive").asBoolean(true),
                            m.has("offset") ? m.path("offset").asLong() : null));
                }
                return new Read(out, Math.max(1, ti.path("replica_num").asInt(1)));
            }
        }
        throw new ConnectorException(Engine.OPENMLDB, "read " + OpenMldbTopology.tableId(p[0], p[1]) + "/" + p[2],
                "the nameserver no longer lists this partition (was the table dropped?)", ConnectorException.Kind.DRIFT, null);
    }

    private static Row on(List<Row> rows, String endpoint) {
        return rows.stream().filter(r -> r.endpoint().equals(endpoint)).findFirst().orElse(null);
    }

    private static Row aliveLeader(List<Row> rows) {
        return rows.stream().filter(r -> r.leader() && r.alive()).findFirst().orElse(null);
    }

    /**
     * A leader hand-over, decided afresh from the partition's rows each round, so that a retry or a resume
     * never repeats what is done: ChangeLeader while {@code from} leads, then RecoverTable of the stale row
     * ChangeLeader leaves on {@code from}; done when another row leads and {@code from}'s row serves again.
     * The named follower becomes leader only when its offset has caught up with the leader's; otherwise the
     * nameserver chooses ({@code "auto"}: the follower with the highest offset), as openmldb_ops.py asks.
     */
    private void handOver(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        String[] p = OpenMldbTopology.parts(step.partition());
        String from = step.from().value();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            settle(p, progress, 0.02);
            List<Row> rows = rows(p);
            Row f = on(rows, from);
            Row leader = aliveLeader(rows);
            if (leader != null && !leader.endpoint().equals(from) && (f == null || f.alive())) {
                progress.update(1, leader.endpoint() + " leads; " + (f == null ? from + " holds no copy" : from + " follows"));
                return;
            }
            if (leader == null) {
                throw noLeader(step); // RecoverTable needs an alive leader to copy from, and ChangeLeader a leader to hand over
            }
            if (f != null && !f.alive()) {
                recover(p, from, false, progress, 0.5);
                continue;
            }
            changeLeader(p, rows, step.to().value(), false, progress, 0.05);
        }
        throw unsettled(step);
    }

    /**
     * A replica move, decided afresh from the partition's rows each round (safe to retry and to resume): a
     * stale or not-alive row on {@code from} is recovered first (RecoverTable); a leader on {@code from} hands
     * over first (ChangeLeader, as openmldb_ops.py does before Migrate); an only replica gets a second copy on
     * {@code to} first (AddReplicaNS) and leaves by DelReplicaNS; a follower moves by Migrate. Done when
     * {@code from} holds no row and {@code to} an alive one.
     */
    private void move(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        String[] p = OpenMldbTopology.parts(step.partition());
        String from = step.from().value();
        String to = step.to().value();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            settle(p, progress, 0.02);
            Read read = read(p);
            List<Row> rows = read.rows();
            Row f = on(rows, from);
            Row t = on(rows, to);
            Row leader = aliveLeader(rows);
            if (f == null && t != null && t.alive()) {
                progress.update(1, to + " holds an alive copy; " + from + " none");
                return;
            }
            if (t != null && !t.alive() && t.leader()) {
                // a stale leader row: the real Migrate is accepted and fails at kAddTableInfo (src/docs/openmldb.md)
                throw new ConnectorException(Engine.OPENMLDB, "move " + step.partition().value() + " to " + to, to + " still lists the "
                        + "partition's old leader row (not alive); the nameserver cannot add another copy there", ConnectorException.Kind.DRIFT, null);
            }
            if (f == null) {
                throw new ConnectorException(Engine.OPENMLDB, "move " + step.partition().value(), from + " no longer holds a copy and "
                        + to + " none: the cluster changed under the run", ConnectorException.Kind.DRIFT, null);
            }
            if (round == 0 && t != null && t.alive() && rows.stream().filter(Row::alive).count() <= read.replicaNum()) {
                // before anything is sent: what the real Migrate answers too (320 "is already in des_endpoint")
                throw new ConnectorException(Engine.OPENMLDB, "move " + step.partition().value() + " to " + to, to
                        + " holds a copy of the partition already", ConnectorException.Kind.REFUSED, null);
            }
            if (t != null && !t.alive()) {
                // a half-made copy: a Migrate or AddReplicaNS that failed after kAddTableInfo leaves its row not alive
                mutate(p, "DelReplicaNS", request(p).put("endpoint", to), "the half-made copy on " + to + " (its row is not alive), "
                        + "before the copy is made again", true, progress, 0.05, 0.1);
                continue;
            }
            if (!f.alive()) {
                if (leader == null) {
                    throw noLeader(step); // RecoverTable needs an alive leader to copy from (src/docs/openmldb.md)
                }
                recover(p, from, true, progress, 0.1);
                continue;
            }
            boolean othersAlive = rows.stream().anyMatch(r -> r.alive() && !r.endpoint().equals(from));
            if (f.leader() && !othersAlive) {
                mutate(p, "AddReplicaNS", request(p).put("endpoint", to), "to move the only replica of " + step.partition().value()
                        + " through a second copy on " + to + " (the partition is briefly unavailable when leadership moves to it)", true,
                        progress, 0.05, 0.6);
                continue;
            }
            if (f.leader()) {
                boolean onlyTheNewCopy = t != null && t.alive() && rows.stream().filter(r -> r.alive() && !r.endpoint().equals(from)).count() == 1;
                if (onlyTheNewCopy) {
                    awaitCaughtUp(p, from, to, progress); // its writes would be lost with the old leader's copy otherwise
                }
                changeLeader(p, rows, null, true, progress, 0.6);
                continue;
            }
            if (t != null) {
                mutate(p, "DelReplicaNS", request(p).put("endpoint", from), "the copy on " + from + ", one too many now that " + to
                        + " holds one", true, progress, 0.9, 1.0);
                continue;
            }
            mutate(p, "Migrate", migrate(step), "the copy on " + from + " to " + to, false, progress, 0.1, 0.95);
        }
        throw unsettled(step);
    }

    /** How long a new only-other copy may take to catch up with the leader before leadership moves to it. */
    static final Duration CATCH_UP_LIMIT = Duration.ofMinutes(2);

    /**
     * Waits until the copy on {@code to} shows every write the leader on {@code from} showed, in two readings of
     * ShowTable a status refresh apart (the nameserver refreshes offsets every few seconds; src/docs/openmldb.md):
     * AddReplicaNS ends once the new copy is within {@code check_binlog_sync_progress_delta} of the leader,
     * not at it, and the writes it lacks would be lost when leadership moves and the old copy is resent.
     */
    private void awaitCaughtUp(String[] p, String from, String to, StepProgress progress) throws ConnectorException, InterruptedException {
        long deadline = System.nanoTime() + CATCH_UP_LIMIT.toNanos();
        int inARow = 0;
        Row f = null;
        Row t = null;
        while (true) {
            List<Row> rows = rows(p);
            f = on(rows, from);
            t = on(rows, to);
            boolean caught = f != null && t != null && f.offset() != null && t.offset() != null && t.offset() >= f.offset();
            inARow = caught ? inARow + 1 : 0;
            if (inARow >= 2) {
                return;
            }
            if (progress.cancelRequested()) {
                throw new ConnectorException(Engine.OPENMLDB, "move " + OpenMldbTopology.tableId(p[0], p[1]) + "/" + p[2], "cancelled while "
                        + "the new copy on " + to + " caught up", ConnectorException.Kind.STOPPED, null);
            }
            if (System.nanoTime() > deadline) {
                throw new ConnectorException(Engine.OPENMLDB, "move " + OpenMldbTopology.tableId(p[0], p[1]) + "/" + p[2], "the new copy on "
                        + to + " has not caught up with the only leader (offset " + (t == null ? "?" : t.offset()) + " of "
                        + (f == null ? "?" : f.offset()) + ") within " + CATCH_UP_LIMIT.toMinutes() + " min; leadership stays on " + from
                        + " (writes keep coming? resume when they are quieter)", ConnectorException.Kind.REFUSED, null);
            }
            progress.update(0.55, "waiting for the new copy on " + to + " to catch up with the leader before leadership moves to it");
            TimeUnit.MILLISECONDS.sleep(CATCH_UP_PACE.toMillis()); // paces a remote read, not a test wait
        }
    }

    /** Between two readings of the offsets: longer than the nameserver's status refresh. */
    static final Duration CATCH_UP_PACE = Duration.ofMillis(2500);

    private static ConnectorException noLeader(Step step) {
        return new ConnectorException(Engine.OPENMLDB, step.describe(), "no row of the partition is an alive leader; the nameserver must "
                + "elect one first (auto_failover, or changeleader)", ConnectorException.Kind.REFUSED, null);
    }

    private static ConnectorException unsettled(Step step) {
        return new ConnectorException(Engine.OPENMLDB, step.describe(), "the partition did not reach the step's end after " + MAX_ROUNDS
                + " rounds of calls (each accepted, none with the effect expected); look at ShowTable and the ops", ConnectorException.Kind.REFUSED, null);
    }

    /**
     * ChangeLeader: the named follower only when its offset has caught up with the leader's (so no write it
     * lacks is lost), otherwise {@code "auto"}, which makes the nameserver pick the follower with the highest
     * offset. An explicit candidate overrides that choice (src/docs/openmldb.md, "Leader changes").
     */
    private void changeLeader(String[] p, List<Row> rows, String wanted, boolean extra, StepProgress progress, double at)
            throws ConnectorException, InterruptedException {
        Row leader = aliveLeader(rows);
        Row w = wanted == null ? null : on(rows, wanted);
        // The named follower only when it holds at least every write the leader and each other alive follower showed
        // at the nameserver's last status refresh: then "auto" could pick no better one (src/docs/openmldb.md).
        boolean caughtUp = w != null && w.alive() && !w.leader() && leader != null && leader.offset() != null && w.offset() != null
                && w.offset() >= leader.offset() && rows.stream().filter(r -> r.alive() && !r.leader() && r != w)
                .allMatch(r -> r.offset() != null && w.offset() >= r.offset());
        String candidate = caughtUp ? wanted : "auto";
        String why = caughtUp ? wanted + " showed every write the leader and the other followers showed (offset " + w.offset() + ")"
                : wanted == null ? "the nameserver picks the follower with the highest offset"
                : wanted + (w == null || !w.alive() ? " is not an alive follower" : " may lag (offset " + w.offset() + "; leader "
                + (leader == null ? "?" : leader.offset()) + ")") + ": the nameserver picks the follower with the highest offset";
        mutate(p, "ChangeLeader", request(p).put("candidate_leader", candidate), "leadership off " + (leader == null ? "?" : leader.endpoint())
                + " to " + candidate + " (" + why + ")", extra, progress, at, at + 0.3);
    }

    /** RecoverTable of a row that is not alive; a failed recovery is sent again. */
    private void recover(String[] p, String endpoint, boolean extra, StepProgress progress, double at) throws ConnectorException, InterruptedException {
        mutate(p, "RecoverTable", request(p).put("endpoint", endpoint), "the copy on " + endpoint + " back to serving (its row is not alive)",
                extra, progress, at, Math.min(1, at + 0.3));
    }

    /**
     * Sends one call that creates ops for partition {@code p}, holding one of the nameserver's task queues
     * (at most {@link #queues} calls in flight), and waits for its ops to end. An op of ours that failed (the
     * nameserver moves it to its history, where it stays until {@code deleteop}: src/docs/openmldb.md) is
     * named in the log, and the step fails naming it, except RecoverTable, which is sent again up to
     * {@link #RECOVER_TRIES} times. 311 from RecoverTable (alive already) is no error.
     */
    private void mutate(String[] p, String method, ObjectNode request, String what, boolean extra, StepProgress progress, double from,
                        double to) throws ConnectorException, InterruptedException {
        String partition = OpenMldbTopology.tableId(p[0], p[1]) + "/" + p[2];
        int tries = method.equals("RecoverTable") ? RECOVER_TRIES : 1;
        acquireQueue(partition, progress);
        try {
            for (int attempt = 1; ; attempt++) {
                OpenMldbOps.Reading before = ops.fresh(progress);
                if (before == null) {
                    throw new ConnectorException(Engine.OPENMLDB, method + " of " + partition, "cancelled before it was sent",
                            ConnectorException.Kind.STOPPED, null);
                }
                if (extra) {
                    // a call beyond the step's own command (command() names those): audited before it is made
                    progress.action(method + " " + what, "POST /NameServer/" + method + " " + request);
                } else {
                    progress.log(method + " " + what);
                }
                progress.update(from, method + ": " + what);
                JsonNode r;
                try {
                    r = rpc.callOnce(method, request);
                } catch (ConnectorException e) {
                    if (e.kind() != ConnectorException.Kind.OUTCOME_UNKNOWN) {
                        throw e;
                    }
                    // it may have been made: never send it twice; the next round reads the partition and waits for its op
                    progress.log(e.getMessage() + "; reading the partition again instead of sending it twice");
                    return;
                }
                long sentAt = System.nanoTime(); // the op exists once the nameserver has answered (src/docs/openmldb.md, "Ops")
                int code = r.path("code").asInt(-1);
                if (method.equals("RecoverTable") && code == 311) {
                    return; // alive already: nothing to recover
                }
                if (code != 0) {
                    throw OpenMldbRpc.refused(method, r);
                }
                OpenMldbOps.Ended ended = ops.await(p, before.maxId(), sentAt, opStall, progress, from, to);
                if (ended.ops().isEmpty()) {
                    // answered OK without creating an op (ChangeLeader with no healthy follower, RecoverTable with no leader)
                    throw new ConnectorException(Engine.OPENMLDB, method + " of " + partition, "the nameserver answered OK but created no op "
                            + "(no healthy follower, or no alive leader to copy from? or a nameserver failover lost its history: a resume reads the rows); "
                            + "look at ShowTable and the nameserver's log",
                            ConnectorException.Kind.REFUSED, null);
                }
                List<OpenMldbOps.Op> failed = ended.failed();
                if (failed.isEmpty()) {
                    progress.update(to, method + " done");
                    return;
                }
                for (OpenMldbOps.Op op : failed) {
                    progress.log(op.describe());
                }
                if (attempt >= tries) {
                    OpenMldbOps.Op op = failed.get(0);
                    throw new ConnectorException(Engine.OPENMLDB, method + " of " + partition, op.describe()
                            + (tries > 1 ? " (tried " + tries + " times)" : "") + "; the run stops here (look at the tablet's log, fix the cause, "
                            + "then resume: it starts from the partition's rows as they are)", ConnectorException.Kind.REFUSED, null);
                }
                progress.log(method + " of " + partition + " failed (attempt " + attempt + " of " + tries + "); sending it again");
            }
        } finally {
            queues.release();
        }
    }

    private void acquireQueue(String partition, StepProgress progress) throws ConnectorException, InterruptedException {
        boolean told = false;
        while (!queues.tryAcquire(250, TimeUnit.MILLISECONDS)) {
            if (!told) {
                progress.update(-1, "waiting for a nameserver task queue (" + queueCount + " run at once)");
                told = true;
            }
            if (progress.cancelRequested()) {
                throw new ConnectorException(Engine.OPENMLDB, "ops of " + partition, "cancelled before it was sent",
                        ConnectorException.Kind.STOPPED, null);
            }
        }
    }

    /**
     * Waits for ops of {@code p} that run already (a retry's first attempt, a crashed run's, anybody's):
     * never a second op beside a running one. What they did is read from the partition's rows next, not
     * from their status (the history is lost when the nameserver fails over).
     */
    private void settle(String[] p, StepProgress progress, double at) throws ConnectorException, InterruptedException {
        OpenMldbOps.Reading now = ops.fresh(progress);
        if (now == null) {
            throw new ConnectorException(Engine.OPENMLDB, "ops of " + OpenMldbTopology.tableId(p[0], p[1]) + "/" + p[2], "cancelled",
                    ConnectorException.Kind.STOPPED, null);
        }
        if (now.of(p).stream().anyMatch(OpenMldbOps.Op::running)) {
            progress.update(at, "an op of the partition runs already: waiting for it instead of sending another");
            ops.await(p, Long.MAX_VALUE, now.readAtNanos(), opStall, progress, at, at);
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
