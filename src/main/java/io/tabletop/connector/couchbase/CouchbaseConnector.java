package io.tabletop.connector.couchbase;

import com.fasterxml.jackson.databind.JsonNode;
import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Units;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Couchbase Server through ns_server's REST API (src/docs/couchbase.md). Data moves only in the
 * cluster's own rebalance, so the one step it runs is {@link StepType#ENGINE_REBALANCE}: {@code POST
 * /controller/rebalance} with every node known and the removed ones ejected, then the rebalance task
 * followed at its {@code recommendedRefreshPeriod} until it ends. Cancel posts {@code stopRebalance}
 * (moved vBuckets stay moved, the nodes stay members); running the step again continues from the current
 * map, which is what a resume does.
 *
 * <p>Every controller call carries the cluster's uuid, read once from {@code /pools} when the connector
 * opens: a removal can never reach another cluster than the one previewed (ns_server answers 404
 * "Cluster uuid does not match the requested."). The live view reads the node list and the buckets
 * without their maps every time, and the maps only when they may have changed (a rebalance ran, nodes or
 * buckets changed) or every 30 s. Thread-safe.
 */
public final class CouchbaseConnector implements ClusterConnector {
    private static final Logger LOG = Logger.getLogger(CouchbaseConnector.class.getName());
    private static final long MAPS_AT_LEAST_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final String name;
    private final CouchbaseRest rest;
    private final String uuid;
    private final EngineCapabilities caps;
    private final Object mapsLock = new Object();
    private JsonNode maps;
    private String mapsKey;
    private long mapsAt;
    private int mapReads;
    private volatile boolean statsAvailable = true;
    /** Active items per node of each bucket, read with the maps (densities change slowly; items are read each time). */
    private Map<String, Map<String, Long>> itemsPerNode = Map.of();

    CouchbaseConnector(String name, CouchbaseRest rest) throws ConnectorException {
        this.name = name;
        this.rest = rest;
        this.uuid = rest.clusterUuid();
        try {
            rest.learn(rest.getJson("/pools/default"));
        } catch (ConnectorException e) {
            LOG.fine("cannot learn the members yet: " + e.getMessage());
        }
        this.caps = capabilities(rest);
    }

    /** Couchbase's rules with the cluster's own {@code rebalanceMovesPerNode} (src/docs/couchbase.md §6); the default 4 when it cannot be read. */
    private static EngineCapabilities capabilities(CouchbaseRest rest) {
        EngineCapabilities base = EngineCapabilities.couchbase();
        try {
            int moves = rest.getJson("/settings/rebalance").path("rebalanceMovesPerNode").asInt(base.maxMovesPerServer());
            return base.toBuilder().maxMovesPerServer(Math.max(1, moves)).build();
        } catch (ConnectorException e) {
            LOG.fine("cannot read /settings/rebalance: " + e.getMessage());
            return base;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Engine engine() {
        return Engine.COUCHBASE;
    }

    @Override
    public EngineCapabilities capabilities() {
        return caps;
    }

    /** The cluster's uuid, as {@code /pools} gave it. */
    public String uuid() {
        return uuid;
    }

    @Override
    public List<String> learnedMembers() {
        return rest.members();
    }

    @Override
    public Optional<String> talkingTo() {
        return Optional.ofNullable(rest.current());
    }

    /** How many times the vBucket maps were downloaded (the live view should rarely need them). */
    public int mapReads() {
        synchronized (mapsLock) {
            return mapReads;
        }
    }

    // ---- reading --------------------------------------------------------------------------------

    @Override
    public ClusterSnapshot snapshot() throws ConnectorException {
        CouchbaseRest.Reply read = rest.get("/pools/default");
        if (read.code() == 403) {
            // a user without {[pools], read} gets 403 here, never an empty node list (menelaus_web.erl:236-237)
            throw new ConnectorException(Engine.COUCHBASE, "read the cluster", "'" + rest.user() + "' may not read the cluster's nodes "
                    + "(HTTP 403): nothing to read; connect as a user with the Cluster Admin role", ConnectorException.Kind.REFUSED, null);
        }
        if (!read.ok()) {
            throw rest.httpError("GET /pools/default", read);
        }
        JsonNode pools = CouchbaseRest.parse(read.body(), "/pools/default");
        rest.learn(pools);
        JsonNode buckets = buckets(pools, false);
        if (buckets.isArray() && buckets.isEmpty()) {
            throw new ConnectorException(Engine.COUCHBASE, "read the cluster", "no bucket is visible to '" + rest.user()
                    + "' (an empty cluster, or a user without read access to the buckets): nothing to plan; connect as a user "
                    + "with the Cluster Admin role", ConnectorException.Kind.REFUSED, null);
        }
        String cluster = pools.path("clusterName").asText("");
        Map<String, Map<String, Long>> perNode;
        synchronized (mapsLock) {
            perNode = itemsPerNode;
        }
        return CouchbaseTopology.read(cluster.isEmpty() ? name : cluster, pools, buckets, perNode, Instant.now());
    }

    /**
     * Active items per node of each bucket from the stats API (src/docs/couchbase.md §1), so the forecast uses each node's own
     * item density; read with the maps, not at every refresh. A cluster that does not answer it (older
     * servers, a role without stats) gets the bucket's average, and is not asked again.
     */
    private Map<String, Map<String, Long>> activeItems(JsonNode buckets) {
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        if (!statsAvailable) {
            return out;
        }
        for (JsonNode b : buckets) {
            if (b.path("bucketType").asText("membase").equals("memcached")) {
                continue;
            }
            String name = b.path("name").asText();
            try {
                out.put(name, CouchbaseTopology.readLastValues(rest.getJson("/pools/default/stats/range/kv_curr_items?bucket="
                        + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8) + "&start=-10"))
                        .orElseThrow(() -> new ConnectorException(Engine.COUCHBASE, "read item counts", "the stats answer is not in the shape expected")));
            } catch (ConnectorException e) {
                LOG.info("no per-node item counts (" + e.getMessage() + "); items per vBucket are the bucket's average");
                statsAvailable = false;
                return Map.of();
            }
        }
        return out;
    }

    /**
     * The buckets with their maps. Item counts come fresh from the light listing ({@code skipMap=true}); the
     * maps are read again when the node list, the bucket list or the rebalance status changed since the
     * last read, or it is older than 30 s, or {@code fresh} asks for it.
     */
    private JsonNode buckets(JsonNode pools, boolean fresh) throws ConnectorException {
        String key = mapsKey(pools);
        synchronized (mapsLock) {
            if (!fresh && maps != null && key.equals(mapsKey) && System.nanoTime() - mapsAt < MAPS_AT_LEAST_EVERY_NANOS) {
                JsonNode light = rest.getJson("/pools/default/buckets?skipMap=true");
                return withMaps(light, maps);
            }
            long at = System.nanoTime();
            JsonNode full = rest.getJson("/pools/default/buckets");
            maps = full;
            mapsKey = key;
            mapsAt = at;
            mapReads++;
            itemsPerNode = activeItems(full);
            return full;
        }
    }

    /** What a vBucket map depends on: the nodes and their state, the buckets, and whether a rebalance runs. */
    private static String mapsKey(JsonNode pools) {
        StringBuilder sb = new StringBuilder(pools.path("rebalanceStatus").asText());
        for (JsonNode n : pools.path("nodes")) {
            sb.append('|').append(n.path("otpNode").asText()).append(':').append(n.path("clusterMembership").asText())
                    .append(':').append(n.path("status").asText());
        }
        for (JsonNode b : pools.path("bucketNames")) {
            sb.append('|').append(b.path("bucketName").asText()).append(':').append(b.path("uuid").asText());
        }
        if ("running".equals(pools.path("rebalanceStatus").asText())) {
            sb.append('|').append(System.nanoTime()); // maps move during a rebalance: always read them
        }
        return sb.toString();
    }

    /** The light listing with each bucket's map taken from the last full read (by name and uuid). */
    private static JsonNode withMaps(JsonNode light, JsonNode full) {
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        for (JsonNode b : full) {
            byName.put(b.path("name").asText() + "/" + b.path("uuid").asText(), b.path("vBucketServerMap"));
        }
        com.fasterxml.jackson.databind.node.ArrayNode out = light.deepCopy();
        for (JsonNode b : out) {
            JsonNode m = byName.get(b.path("name").asText() + "/" + b.path("uuid").asText());
            if (m != null && b instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
                o.set("vBucketServerMap", m);
            }
        }
        return out;
    }

    @Override
    public HealthReport health() throws ConnectorException {
        JsonNode pools = rest.getJson("/pools/default");
        return CouchbaseTopology.health(pools, buckets(pools, false), rebalanceTask().orElse(null));
    }

    /** Items per bucket ({@code basicStats.itemCount}: active items), for the post-checks' comparison. */
    @Override
    public Optional<Map<String, Long>> rowCounts() throws ConnectorException {
        Map<String, Long> out = new TreeMap<>();
        for (JsonNode b : rest.getJson("/pools/default/buckets?skipMap=true")) {
            out.put(b.path("name").asText(), b.path("basicStats").path("itemCount").asLong(0));
        }
        return Optional.of(out);
    }

    /**
     * Each bucket's RAM quota per node ({@code quota.rawRAM}) stays what it is when nodes leave, while the
     * survivors take the leavers' vBuckets: the memory the bucket uses now ({@code basicStats.memUsed}) per
     * vBucket copy it holds now, times the copies each node holds after the forecast, against 85% of that
     * quota (Couchbase's default high-water mark, above which items leave memory and reads go to disk).
     */
    @Override
    public List<CheckResult> engineChecks(ClusterSnapshot predicted, List<ServerId> removed) throws ConnectorException {
        if (removed.isEmpty()) {
            return List.of();
        }
        List<CheckResult> out = new ArrayList<>();
        List<String> tight = new ArrayList<>();
        ClusterSnapshot now = snapshot();
        for (JsonNode b : rest.getJson("/pools/default/buckets?skipMap=true")) {
            String name = b.path("name").asText();
            long quota = b.path("quota").path("rawRAM").asLong(0);
            long memUsed = b.path("basicStats").path("memUsed").asLong(-1);
            if (quota <= 0 || memUsed < 0) {
                continue;
            }
            long copiesNow = now.partitions().stream().filter(p -> p.table().value().equals(name)).mapToLong(p -> p.replicas().size()).sum();
            Map<ServerId, Integer> copies = new TreeMap<>();
            for (Partition p : predicted.partitions()) {
                if (p.table().value().equals(name)) {
                    for (Replica r : p.replicas()) {
                        copies.merge(r.server(), 1, Integer::sum);
                    }
                }
            }
            for (Map.Entry<ServerId, Integer> e : copies.entrySet()) {
                long need = copiesNow == 0 ? 0 : Math.round((double) memUsed * e.getValue() / copiesNow);
                if (need > 0.85 * quota) {
                    tight.add("bucket " + name + " on " + e.getKey() + ": about " + Units.bytes(need) + " in memory against a quota of "
                            + Units.bytes(quota) + " per node");
                }
            }
        }
        out.add(alsoRebalanced(rest.getJson("/pools/default"), removed));
        out.add(tight.isEmpty()
                ? CheckResult.pass("Bucket memory", "every bucket's data still fits under 85% of its RAM quota per node afterwards")
                : CheckResult.warn("Bucket memory", String.join("; ", tight) + ": above the 85% high-water mark items leave memory "
                + "and reads go to disk; raise the buckets' quotas or keep more nodes"));
        return out;
    }

    /**
     * The rebalance task, asking the server to wait for its rebalance observer at most {@link
     * CouchbaseRest#TASKS_WAIT_MILLIS} (menelaus_web_misc.erl:79-83), less than the read timeout: an observer
     * slower than that gives the stale form ({@link #stale}), not a timeout.
     */
    /**
     * What the same rebalance does besides taking the nodes out: ns_server's rebalance takes every node
     * known (knownNodes must be the full list: ns_orchestrator.erl:603-610), so nodes added and not yet
     * rebalanced in ({@code inactiveAdded}) and failed-over nodes marked for recovery join in it, and every
     * service moves, not only the data (ns_orchestrator.erl:897-907 observes all supported services).
     */
    static CheckResult alsoRebalanced(JsonNode pools, List<ServerId> removed) {
        List<String> joining = new ArrayList<>();
        java.util.Set<String> services = new java.util.TreeSet<>();
        for (JsonNode n : pools.path("nodes")) {
            String otp = n.path("otpNode").asText();
            String membership = n.path("clusterMembership").asText("active");
            String recovery = n.path("recoveryType").asText("none");
            if (membership.equals("inactiveAdded")) {
                joining.add(otp + (recovery.equals("none") ? " (added)" : " (" + recovery + " recovery)"));
            }
            for (JsonNode sv : n.path("services")) {
                if (!sv.asText().equals("kv")) {
                    services.add(sv.asText());
                }
            }
        }
        if (joining.isEmpty() && services.isEmpty()) {
            return CheckResult.pass("Rebalance also", "the rebalance moves only the data: no node waits to be rebalanced in and no "
                    + "other service runs");
        }
        List<String> parts = new ArrayList<>();
        if (!joining.isEmpty()) {
            parts.add(String.join(", ", joining) + " will be rebalanced in by the same rebalance and take their share of the "
                    + "vBuckets (the forecast counts them among the nodes that stay), so more data moves than the removal alone needs");
        }
        if (!services.isEmpty()) {
            parts.add("the " + String.join(", ", services) + " service(s) move too; the estimate covers the vBucket moves only, so the "
                    + "rebalance takes longer than it says");
        }
        return CheckResult.warn("Rebalance also", String.join("; ", parts));
    }

    private Optional<JsonNode> rebalanceTask() throws ConnectorException {
        for (JsonNode t : rest.getJson("/pools/default/tasks?rebalanceStatusTimeout=" + CouchbaseRest.TASKS_WAIT_MILLIS)) {
            if ("rebalance".equals(t.path("type").asText())) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    // ---- running ----------------------------------------------------------------------------------

    @Override
    public String command(Step step) {
        if (step.type() == StepType.HEALTH_GATE) {
            return "GET /pools/default, /pools/default/buckets, /pools/default/tasks (health)";
        }
        if (step.type() == StepType.FAILOVER) {
            return "POST /controller/startGracefulFailover?uuid=" + uuid + " " + step.servers().stream().map(s -> "otpNode=" + s.value())
                    .collect(Collectors.joining("&"));
        }
        if (step.type() != StepType.ENGINE_REBALANCE) {
            return "couchbase: " + step.type().label() + (step.partition() == null ? "" : " " + step.partition().value())
                    + (step.servers().isEmpty() ? "" : " " + step.servers().stream().map(ServerId::value).collect(Collectors.joining(",")))
                    + " (no such operation: Couchbase moves data only in its own rebalance)";
        }
        return "POST /controller/rebalance?uuid=" + uuid + " knownNodes=<every node> ejectedNodes="
                + step.servers().stream().map(ServerId::value).collect(Collectors.joining(","));
    }

    @Override
    public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        if (step.type() == StepType.HEALTH_GATE) {
            HealthReport h = health();
            if (h.verdict() == io.tabletop.domain.Verdict.BLOCK) {
                throw new ConnectorException(Engine.COUCHBASE, "health gate", h.summary() + ": " + String.join("; ", h.details()), true, null);
            }
            return;
        }
        if (step.type() == StepType.FAILOVER) {
            failover(step, progress);
            return;
        }
        if (step.type() != StepType.ENGINE_REBALANCE) {
            throw new ConnectorException(Engine.COUCHBASE, step.describe(), "Couchbase moves data only in its own rebalance; "
                    + "this step type cannot run here");
        }
        rebalance(step, progress);
    }

    /**
     * The rebalance that ejects the step's nodes. A rebalance already running is followed only when it is
     * this run's own: its id was adopted ({@link #adoptEngineWork}, a resume) or it ejects exactly the
     * step's nodes; anyone else's is refused. Before posting, the connector moves off the nodes it ejects
     * (they leave and answer as nodes of no cluster afterwards). The POST's 200 is tied to what it started: 7.6's
     * {@code rebalance_id}, else the task's {@code statusId} before and after.
     */
    private void rebalance(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        rebalance(step, progress, true);
    }

    private void rebalance(Step step, StepProgress progress, boolean mayWaitOut) throws ConnectorException, InterruptedException {
        String what = "rebalance out " + step.servers().stream().map(ServerId::value).collect(Collectors.joining(", "));
        JsonNode before = settledTask(what);
        JsonNode pools = rest.getJson("/pools/default");
        rest.learn(pools);
        List<String> known = new ArrayList<>();
        pools.path("nodes").forEach(n -> known.add(n.path("otpNode").asText()));
        Set<String> mine = step.servers().stream().map(ServerId::value).collect(Collectors.toSet());
        List<String> eject = step.servers().stream().map(ServerId::value).filter(known::contains).toList();
        Set<String> failed = new java.util.HashSet<>();
        pools.path("nodes").forEach(n -> {
            if ("inactiveFailed".equals(n.path("clusterMembership").asText())) {
                failed.add(n.path("otpNode").asText());
            }
        });
        if (before != null && "running".equals(before.path("status").asText())) {
            before = withRebalanceInfo(before);
            String id = before.path("rebalanceId").asText("");
            if (!hasRebalanceInfo(before)) {
                // without the observer's info (ns_doctor.erl:833-837) whose it is is unknown: not refused as
                // someone else's; followed to its end, and then the cluster is looked at again
                if (!mayWaitOut) {
                    throw new ConnectorException(Engine.COUCHBASE, what, "a rebalance is running and the cluster does not say whose (its task "
                            + "has no rebalanceId or nodesInfo): run again when it ended", ConnectorException.Kind.TRANSIENT, null);
                }
                progress.log("a rebalance is running (" + Math.round(before.path("progress").asDouble()) + "%) and its task does not say whose "
                        + "(no rebalanceId or nodesInfo: the rebalance observer did not answer); following it to its end, then looking again");
                rest.avoid(Set.copyOf(union(eject, failed)));
                awaitTask(what, progress, STOPPED_WHY, before.path("statusId").asText(""), "");
                rebalance(step, progress, false);
                return;
            }
            Set<String> ejecting = ejecting(before);
            // the step's nodes ejected, plus at most nodes failed over (every rebalance ejects those:
            // ns_orchestrator.erl:611-613), which leave when it starts (ns_rebalancer.erl:505-508) and may
            // no longer be members
            boolean ours = adopted.contains(id) || (ejecting.stream().anyMatch(mine::contains) && ejecting.containsAll(eject)
                    && ejecting.stream().allMatch(x -> mine.contains(x) || failed.contains(x) || !known.contains(x)));
            if (!ours) {
                throw new ConnectorException(Engine.COUCHBASE, what, "someone else's rebalance is running (" + Math.round(before.path("progress")
                        .asDouble()) + "%" + (ejecting.isEmpty() ? "" : ", ejecting " + String.join(", ", ejecting)) + "): wait for it to end, "
                        + "then read the cluster and preview again", ConnectorException.Kind.REFUSED, null);
            }
            progress.log("the run's own rebalance " + id + " is running (" + Math.round(before.path("progress").asDouble())
                    + "%); following it instead of starting another");
            rest.avoid(Set.copyOf(union(ejecting, union(eject, failed))));
            awaitTask(what, progress, STOPPED_WHY, before.path("statusId").asText(""), id);
            follow(what, step, progress);
            return;
        }
        if (eject.isEmpty() && pools.path("balanced").asBoolean(true)) {
            progress.update(1, "the nodes are no longer members and the cluster is balanced: nothing to do");
            return;
        }
        Map<String, String> form = new LinkedHashMap<>();
        form.put("knownNodes", String.join(",", known));
        form.put("ejectedNodes", String.join(",", eject));
        String uri = pools.path("controllers").path("rebalance").path("uri").asText("/controller/rebalance?uuid=" + uuid);
        if (!uri.contains("uuid=")) {
            uri += (uri.contains("?") ? "&" : "?") + "uuid=" + uuid;
        }
        rest.avoid(Set.copyOf(union(eject, failed))); // they leave (failed ones at the start): talk through a node that stays
        String statusBefore = before == null ? "" : before.path("statusId").asText("");
        progress.update(0, "starting the rebalance: " + known.size() + " nodes known, ejecting " + String.join(", ", eject)
                + " (through " + rest.current() + ")");
        CouchbaseRest.Reply r;
        try {
            r = rest.post(uri, form);
        } catch (CouchbaseRest.AnswerLost lost) {
            afterLostAnswer(what, step, progress, uri, lost, statusBefore, eject);
            return;
        }
        if (!r.ok()) {
            throw rebalanceRefused(r);
        }
        String id = rebalanceIdOf(r.body());
        if (!id.isEmpty()) {
            // recorded before anything else can fail: a resume recognises the rebalance by it
            adopted.add(id);
            progress.action("the cluster started rebalance " + id, "POST " + uri + " → {\"rebalance_id\":\"" + id + "\"}");
        }
        JsonNode after = settledTask(what);
        String statusAfter = after == null ? "" : after.path("statusId").asText("");
        boolean runningNow = after != null && "running".equals(after.path("status").asText());
        if (id.isEmpty()) {
            // 200 without a rebalance_id: a cluster below 7.6 that started it, or one that started nothing
            // (in_progress, or a refusal left in the status: menelaus_web_cluster.erl:1121-1142). A 7.6
            // cluster answers every start with its rebalance_id (ns_orchestrator.erl:941-945); older ones are
            // judged by the status id and the running task's ejected nodes
            Set<String> ejectingNow = runningNow ? ejecting(after) : Set.of();
            boolean othersRunning = runningNow && (answersWithId(pools) || !ejectingNow.isEmpty() && !ejectingNow.containsAll(eject));
            if (othersRunning || statusAfter.equals(statusBefore) || statusAfter.isEmpty() && !runningNow) {
                throw new ConnectorException(Engine.COUCHBASE, what, "the cluster answered 200 but started no rebalance ("
                        + (runningNow ? "one was already running" : "its status did not change") + "): read the cluster and preview again",
                        ConnectorException.Kind.REFUSED, null);
            }
            if (!runningNow && after.has("errorMessage")) {
                throw startRefusedLater(what, after.path("errorMessage").asText());
            }
            id = runningNow ? after.path("rebalanceId").asText("") : "";
            if (!id.isEmpty()) {
                adopted.add(id);
            }
        }
        awaitTask(what, progress, STOPPED_WHY, statusBefore, id);
        follow(what, step, progress);
    }

    /**
     * The POST's answer was lost after its request may have reached the node: it is not sent again (the
     * second one would answer 200 and start nothing, or start a second rebalance). The task says what
     * happened: a rebalance that started since (its status changed) and ejects the step's nodes is the
     * run's; none started: the step may run again.
     */
    private void afterLostAnswer(String what, Step step, StepProgress progress, String uri, CouchbaseRest.AnswerLost lost,
                                 String statusBefore, List<String> eject) throws ConnectorException, InterruptedException {
        progress.log(lost.getMessage() + ": not sent again; looking at the cluster's rebalance task to see whether it started");
        JsonNode t = null;
        for (int attempt = 0; t == null; attempt++) {
            try {
                t = settledTask(what);
                if (t == null) {
                    break;
                }
            } catch (ConnectorException e) {
                if (attempt >= 10) {
                    throw new ConnectorException(Engine.COUCHBASE, what, "the rebalance POST's answer was lost and the cluster cannot be "
                            + "read now (" + e.getMessage() + "): look at the cluster before running again", ConnectorException.Kind.REFUSED, e);
                }
                TimeUnit.SECONDS.sleep(1);
            }
        }
        String statusNow = t == null ? "" : t.path("statusId").asText("");
        boolean changed = !statusNow.isEmpty() && !statusNow.equals(statusBefore);
        boolean runningNow = t != null && "running".equals(t.path("status").asText());
        if (runningNow) {
            t = withRebalanceInfo(t);
            Set<String> ejecting = ejecting(t);
            if (changed && (!hasRebalanceInfo(t) || ejecting.containsAll(eject))) {
                String id = t.path("rebalanceId").asText("");
                if (!id.isEmpty()) {
                    adopted.add(id);
                }
                progress.action("the cluster started rebalance " + (id.isEmpty() ? "(id not known)" : id) + "; the POST's answer was lost",
                        "POST " + uri + " → answer lost; task: running" + (id.isEmpty() ? "" : ", rebalanceId " + id));
                awaitTask(what, progress, STOPPED_WHY, statusBefore, id);
                follow(what, step, progress);
                return;
            }
            throw new ConnectorException(Engine.COUCHBASE, what, "the rebalance POST's answer was lost and another rebalance runs ("
                    + (ejecting.isEmpty() ? "its nodes not known" : "ejecting " + String.join(", ", ejecting)) + "): wait for it to end, "
                    + "then read the cluster and preview again", ConnectorException.Kind.REFUSED, null);
        }
        if (changed && t.has("errorMessage")) {
            throw startRefusedLater(what, t.path("errorMessage").asText());
        }
        if (changed) {
            follow(what, step, progress); // it started and already ended: the nodes must be gone
            return;
        }
        throw new ConnectorException(Engine.COUCHBASE, what, "the rebalance POST's answer was lost and the cluster started no rebalance "
                + "(its status did not change): running the step again is safe", ConnectorException.Kind.TRANSIENT, null);
    }

    private static Set<String> union(java.util.Collection<String> a, java.util.Collection<String> b) {
        Set<String> out = new java.util.TreeSet<>(a);
        out.addAll(b);
        return out;
    }

    /** Whether a running task carries the observer's info (rebalanceId, nodesInfo): ns_doctor.erl:833-837 leaves it out when it fails. */
    private static boolean hasRebalanceInfo(JsonNode task) {
        return !task.path("rebalanceId").asText("").isEmpty() || task.has("nodesInfo");
    }

    /** The running task again, for up to 10 s, until it carries the observer's info; else as it is. */
    private JsonNode withRebalanceInfo(JsonNode task) throws ConnectorException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonNode t = task;
        while (t != null && "running".equals(t.path("status").asText()) && !hasRebalanceInfo(t) && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(250);
            JsonNode next = settledTask("read the rebalance task");
            if (next == null || !"running".equals(next.path("status").asText())) {
                return t;
            }
            t = next;
        }
        return t;
    }

    private static final String STOPPED_WHY = "stopped on the operator's request; the vBuckets moved so far stay moved and the nodes "
            + "stay members (run it again, or resume, to continue)";

    /** Rebalance ids this run started or adopted: a running rebalance with one of them is the run's own. */
    private final Set<String> adopted = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public void adoptEngineWork(EngineWork work) {
        if (!work.id().isEmpty()) {
            adopted.add(work.id());
        }
    }

    /** The rebalance running now, as the task describes it; a stale answer is asked again (never taken as "none"). */
    /** A rebalance or graceful failover running that is not this run's own (one it started or adopted). */
    @Override
    public List<String> otherOperations(ClusterSnapshot snapshot, java.util.Collection<ServerId> own) throws ConnectorException {
        Optional<EngineWork> w = engineWork();
        if (w.isEmpty() || adopted.contains(w.get().id())) {
            return List.of();
        }
        return List.of("a " + w.get().describe() + " is running on the cluster (started by another run or by an operator)");
    }

    @Override
    public Optional<EngineWork> engineWork() throws ConnectorException {
        JsonNode task;
        try {
            task = settledTask("read the rebalance task");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectorException(Engine.COUCHBASE, "read the rebalance task", "interrupted", ConnectorException.Kind.TRANSIENT, e);
        }
        if (task == null || !"running".equals(task.path("status").asText())) {
            return Optional.empty();
        }
        try {
            task = withRebalanceInfo(task);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectorException(Engine.COUCHBASE, "read the rebalance task", "interrupted", ConnectorException.Kind.TRANSIENT, e);
        }
        if (!hasRebalanceInfo(task)) {
            // unknown, not someone else's (ns_doctor.erl:833-837: the observer's info is left out when it fails)
            throw new ConnectorException(Engine.COUCHBASE, "read the rebalance task", "a rebalance is running ("
                    + Math.round(task.path("progress").asDouble()) + "%) and its task does not say whose (no rebalanceId or nodesInfo: "
                    + "the rebalance observer did not answer): try again in a moment", ConnectorException.Kind.TRANSIENT, null);
        }
        List<ServerId> removing = ejecting(task).stream().sorted().map(ServerId::of).toList();
        double pct = task.path("progress").asDouble();
        String kind = "gracefulFailover".equals(task.path("subtype").asText()) ? "graceful failover" : "rebalance";
        return Optional.of(new EngineWork(task.path("rebalanceId").asText(""), removing, pct, kind + " (" + Math.round(pct) + "%"
                + (removing.isEmpty() ? "" : ", ejecting " + removing.stream().map(ServerId::value).collect(Collectors.joining(", "))) + ")"));
    }

    /** The nodes a running rebalance takes out: nodesInfo's eject_nodes and failed_nodes (ns_orchestrator.erl:897-901). */
    private static Set<String> ejecting(JsonNode task) {
        Set<String> out = new java.util.TreeSet<>();
        JsonNode info = task.path("nodesInfo");
        info.path("eject_nodes").forEach(n -> out.add(n.asText()));
        info.path("failed_nodes").forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String rebalanceIdOf(String body) {
        if (body.isBlank()) {
            return "";
        }
        try {
            return CouchbaseRest.parse(body, "/controller/rebalance").path("rebalance_id").asText("");
        } catch (ConnectorException e) {
            return "";
        }
    }

    /**
     * Whether the cluster runs at 7.6 compatibility, whose rebalance POST answers a start with its
     * rebalance_id (ns_orchestrator.erl:941-945: is_cluster_76, the cluster's compat version, not the
     * nodes' versions): {@code clusterCompatibility} = major * 0x10000 + minor (menelaus_web_node.erl:681-682,
     * cluster_compat_mode.erl:320-322).
     */
    static boolean answersWithId(JsonNode pools) {
        for (JsonNode n : pools.path("nodes")) {
            if (n.has("clusterCompatibility")) {
                return n.path("clusterCompatibility").asInt(0) >= 7 * 0x10000 + 6;
            }
        }
        return false;
    }

    /** A start the server accepted with 200 and then refused in its status (an unfinished failover). */
    private static ConnectorException startRefusedLater(String what, String message) {
        String hint = message.startsWith("Unfinished failover") ? " Finish the failover first (fail the nodes over again, or recover them)." : "";
        return new ConnectorException(Engine.COUCHBASE, what, "the cluster accepted the request but started no rebalance: " + message + hint,
                ConnectorException.Kind.REFUSED, null);
    }

    /**
     * The rebalance task once an answer is not stale: {@code statusIsStale} or {@code masterRequestTimedOut}
     * means the observer did not answer in time while a rebalance may well run (ns_doctor.erl:855-871), so
     * it is asked again; after a minute of stale answers {@code /pools/default}'s {@code rebalanceStatus}
     * decides, and a running rebalance is then described by what is known.
     */
    private JsonNode settledTask(String what) throws ConnectorException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            JsonNode task = rebalanceTask().orElse(null);
            if (task == null || !stale(task) && !notRunningButRunning(task)) {
                return task;
            }
            if (System.nanoTime() > deadline) {
                boolean running = "running".equals(rest.getJson("/pools/default").path("rebalanceStatus").asText());
                com.fasterxml.jackson.databind.node.ObjectNode t = task.deepCopy();
                t.put("status", running ? "running" : "notRunning");
                return t;
            }
            TimeUnit.MILLISECONDS.sleep(250);
        }
    }

    /**
     * A task that says notRunning, not stale, while {@code /pools/default}'s {@code rebalanceStatus} (from
     * rebalance:running(), menelaus_web_pools.erl:305-312) says running: the observer call failed otherwise
     * than by a timeout and ns_doctor shows not_running (ns_rebalance_observer.erl:102-115,
     * ns_doctor.erl:866-867). Not the end.
     */
    private boolean notRunningButRunning(JsonNode task) throws ConnectorException {
        return !"running".equals(task.path("status").asText()) && "running".equals(rest.getJson("/pools/default").path("rebalanceStatus").asText());
    }

    static boolean stale(JsonNode task) {
        return task.path("statusIsStale").asBoolean(false) || task.path("masterRequestTimedOut").asBoolean(false);
    }

    /**
     * {@code POST /controller/startGracefulFailover} with each node (src/docs/couchbase.md §5): the cluster hands the nodes'
     * active vBuckets to replicas elsewhere, then marks them failed over; the same rebalance task follows
     * it (subtype {@code gracefulFailover}). Nodes already failed over are not asked again.
     */
    private void failover(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        String what = step.describe();
        JsonNode pools = rest.getJson("/pools/default");
        List<String> todo = new ArrayList<>();
        for (JsonNode n : pools.path("nodes")) {
            String otp = n.path("otpNode").asText();
            if (step.servers().stream().anyMatch(s -> s.value().equals(otp)) && !"inactiveFailed".equals(n.path("clusterMembership").asText())) {
                todo.add(otp);
            }
        }
        if (todo.isEmpty()) {
            progress.update(1, "already failed over");
            return;
        }
        progress.update(0, "graceful failover of " + String.join(", ", todo));
        JsonNode before = settledTask(what);
        String statusBefore = before == null ? "" : before.path("statusId").asText("");
        CouchbaseRest.Reply r = rest.postRepeated("/controller/startGracefulFailover?uuid=" + uuid, "otpNode", todo);
        if (!r.ok()) {
            String body = CouchbaseRest.abbreviate(r.body());
            // 503 "Rebalance running." waits; 503 "Cluster is in recovery mode." is a refusal (menelaus_web_cluster.erl:960-965)
            boolean busy = r.code() == 503 && !body.contains("recovery mode");
            throw new ConnectorException(Engine.COUCHBASE, what, busy ? "the cluster is busy: " + body : r.code() == 503
                    ? "the cluster refuses a failover now: " + body + " Finish or cancel the recovery first." : body.isEmpty()
                    ? "HTTP " + r.code() : body, busy ? ConnectorException.Kind.TRANSIENT : ConnectorException.Kind.REFUSED, null);
        }
        awaitTask(what, progress, "stopped on the operator's request; the nodes not yet failed over stay active", statusBefore, "");
        List<String> notFailed = new ArrayList<>();
        for (JsonNode n : rest.getJson("/pools/default").path("nodes")) {
            if (todo.contains(n.path("otpNode").asText()) && !"inactiveFailed".equals(n.path("clusterMembership").asText())) {
                notFailed.add(n.path("otpNode").asText());
            }
        }
        if (!notFailed.isEmpty()) {
            throw new ConnectorException(Engine.COUCHBASE, what, String.join(", ", notFailed) + " are not failed over after the task ended",
                    ConnectorException.Kind.REFUSED, null);
        }
        synchronized (mapsLock) {
            maps = null;
        }
        progress.update(1, String.join(", ", todo) + " failed over; their active vBuckets are served by the other nodes");
    }


    /** Each documented refusal of {@code POST /controller/rebalance} (src/docs/couchbase.md §2) in one clear line. */
    private ConnectorException rebalanceRefused(CouchbaseRest.Reply r) {
        String body = r.body().strip();
        String op = "start the rebalance";
        if (r.code() == 404 && body.contains("uuid does not match")) {
            return new ConnectorException(Engine.COUCHBASE, op, "this is not the cluster that was previewed (its uuid is no longer "
                    + uuid + "): connect again and preview again", ConnectorException.Kind.REFUSED, null);
        }
        if (body.contains("\"mismatch\"")) {
            return new ConnectorException(Engine.COUCHBASE, op, "the cluster's nodes changed since the preview (ns_server: mismatch): "
                    + "read the cluster again and preview again before confirming", ConnectorException.Kind.REFUSED, null);
        }
        if (body.contains("noKVNodesLeft")) {
            return new ConnectorException(Engine.COUCHBASE, op, "this would remove the last data (kv) node", ConnectorException.Kind.REFUSED, null);
        }
        if (body.contains("empty_known_nodes")) {
            return new ConnectorException(Engine.COUCHBASE, op, "no nodes known (empty knownNodes)", ConnectorException.Kind.REFUSED, null);
        }
        if (body.contains("deltaRecoveryNotPossible")) {
            return new ConnectorException(Engine.COUCHBASE, op, "delta recovery is not possible: set full recovery on the re-added nodes",
                    ConnectorException.Kind.REFUSED, null);
        }
        if (r.code() == 503 && (body.contains("recovery mode") || body.contains("pausing/resuming"))) {
            // refusals that waiting a few seconds does not lift (menelaus_web_cluster.erl:1131-1135)
            return new ConnectorException(Engine.COUCHBASE, op, "the cluster refuses a rebalance now: " + CouchbaseRest.abbreviate(body)
                    + (body.contains("recovery mode") ? " Finish or cancel the recovery first." : " Wait until the bucket is paused or resumed."),
                    ConnectorException.Kind.REFUSED, null);
        }
        if (r.code() == 503) {
            return new ConnectorException(Engine.COUCHBASE, op, "the cluster is busy: " + CouchbaseRest.abbreviate(body), ConnectorException.Kind.TRANSIENT, null);
        }
        return rest.httpError(op, r);
    }

    /**
     * Follows the cluster's rebalance task (a rebalance, or a graceful failover, which runs through the same
     * task) until it no longer runs: progress at its {@code recommendedRefreshPeriod}, a cancel posts
     * {@code stopRebalance} and throws {@code STOPPED} with {@code stoppedWhy}. A stale answer
     * ({@link #stale}) is "unknown: poll again", cross-checked with {@code /pools/default}'s
     * {@code rebalanceStatus}, never the end. An {@code errorMessage} is this run's only when the status
     * changed since {@code statusBefore} (the status id before the run's POST: an older failure's message
     * stays on the task until the next rebalance starts); a running task with another id than {@code ownId}
     * is not this run's. A few unreadable polls in a row are waited out.
     */
    private void awaitTask(String what, StepProgress progress, String stoppedWhy, String statusBefore, String ownId)
            throws ConnectorException, InterruptedException {
        long started = System.nanoTime();
        boolean sawRunning = false;
        boolean saidStale = false;
        boolean saidContradiction = false;
        int quiet = 0;
        while (true) {
            if (progress.cancelRequested()) {
                stop(progress);
                throw new ConnectorException(Engine.COUCHBASE, what, stoppedWhy, ConnectorException.Kind.STOPPED, null);
            }
            JsonNode task;
            try {
                task = rebalanceTask().orElse(null);
            } catch (ConnectorException e) {
                if (++quiet > 10) {
                    throw e;
                }
                LOG.fine("rebalance task unreadable: " + e.getMessage());
                TimeUnit.SECONDS.sleep(1);
                continue;
            }
            quiet = 0;
            if (task != null && stale(task)) {
                boolean running = "running".equals(rest.getJson("/pools/default").path("rebalanceStatus").asText());
                if (!saidStale) {
                    progress.log("the cluster's rebalance observer did not answer in time (statusIsStale); /pools/default says "
                            + (running ? "a rebalance is running" : "none is running") + ": asking again");
                    saidStale = true;
                }
                TimeUnit.MILLISECONDS.sleep(250);
                continue;
            }
            String status = task == null ? "notRunning" : task.path("status").asText();
            if (!status.equals("running") && task != null && notRunningButRunning(task)) {
                if (!saidContradiction) {
                    progress.log("the rebalance task says notRunning while /pools/default says a rebalance is running (the observer "
                            + "did not answer): asking again");
                    saidContradiction = true;
                }
                TimeUnit.MILLISECONDS.sleep(250);
                continue;
            }
            if (status.equals("running")) {
                String id = task.path("rebalanceId").asText("");
                if (!ownId.isEmpty() && !task.path("rebalanceId").asText("").isEmpty() && !ownId.equals(id)) {
                    throw new ConnectorException(Engine.COUCHBASE, what, "the run's rebalance " + ownId + " ended and another one (" + id
                            + ") runs now: read the cluster and preview again", ConnectorException.Kind.REFUSED, null);
                }
                sawRunning = true;
                report(task, started, progress);
                double period = task.path("recommendedRefreshPeriod").asDouble(0.25);
                TimeUnit.MILLISECONDS.sleep(Math.round(1000 * Math.min(2.0, Math.max(0.1, period))));
                continue;
            }
            boolean changed = task != null && !task.path("statusId").asText("").equals(statusBefore);
            if (task != null && task.has("errorMessage") && (changed || statusBefore.isEmpty())) {
                String report = task.path("lastReportURI").asText("");
                if (!report.isEmpty()) {
                    progress.log("the rebalance report: " + report);
                }
                throw new ConnectorException(Engine.COUCHBASE, what, task.path("errorMessage").asText()
                        + (report.isEmpty() ? "" : " (report: " + report + ")"), ConnectorException.Kind.REFUSED, null);
            }
            if (!sawRunning && !changed && System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10)) {
                // the task may not show the new rebalance at once; an older errorMessage is not this run's
                TimeUnit.MILLISECONDS.sleep(200);
                continue;
            }
            break;
        }
    }

    private void follow(String what, Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        // Ended without an error: the ejected nodes must be gone.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Set<String> ejected = step.servers().stream().map(ServerId::value).collect(Collectors.toSet());
        while (true) {
            JsonNode pools = rest.getJson("/pools/default");
            List<String> still = new ArrayList<>();
            pools.path("nodes").forEach(n -> {
                if (ejected.contains(n.path("otpNode").asText())) {
                    still.add(n.path("otpNode").asText());
                }
            });
            if (still.isEmpty()) {
                synchronized (mapsLock) {
                    maps = null; // the maps changed: read them again next time
                }
                progress.update(1, "rebalance finished; " + String.join(", ", ejected) + " left the cluster");
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new ConnectorException(Engine.COUCHBASE, what, "the rebalance ended but " + String.join(", ", still)
                        + " are still members (stopped by someone else?)", ConnectorException.Kind.REFUSED, null);
            }
            TimeUnit.MILLISECONDS.sleep(250);
        }
    }

    private void report(JsonNode task, long started, StepProgress progress) {
        double pct = task.path("progress").asDouble(0);
        Map<String, Double> parts = new LinkedHashMap<>();
        task.path("perNode").fields().forEachRemaining(e -> parts.put(e.getKey(), Math.min(1, e.getValue().path("progress").asDouble() / 100)));
        progress.parts(parts);
        JsonNode dp = task.path("detailedProgress");
        StringBuilder msg = new StringBuilder(String.format(Locale.ROOT, "%.0f%%", pct));
        if (dp.has("bucket")) {
            msg.append(" · bucket ").append(dp.path("bucketNumber").asInt()).append('/').append(dp.path("bucketsCount").asInt())
                    .append(' ').append(dp.path("bucket").asText());
            List<String> left = new ArrayList<>();
            dp.path("perNode").fields().forEachRemaining(e -> {
                JsonNode out = e.getValue().path("outgoing");
                JsonNode in = e.getValue().path("ingoing");
                int vbs = out.path("activeVBucketsLeft").asInt() + out.path("replicaVBucketsLeft").asInt()
                        + in.path("activeVBucketsLeft").asInt() + in.path("replicaVBucketsLeft").asInt();
                if (vbs > 0) {
                    left.add(e.getKey() + " " + vbs);
                }
            });
            if (!left.isEmpty()) {
                msg.append(" · vBuckets left: ").append(String.join(", ", left));
            }
        }
        double elapsed = (System.nanoTime() - started) / 1e9;
        double eta = eta(task, pct, elapsed, caps.maxMovesPerServer());
        if (eta >= 0) {
            msg.append(" · ETA ").append(Units.duration(eta));
        }
        progress.update(pct / 100, msg.toString());
    }

    /**
     * The server gives no ETA (src/docs/couchbase.md §6): from the data stage's move statistics (vBucket moves left × average time
     * per move / moves per node in parallel, summed over the buckets) where it has them, else from the
     * progress so far.
     */
    static double eta(JsonNode task, double pct, double elapsedSeconds, int movesPerNode) {
        JsonNode details = task.path("stageInfo").path("data").path("details");
        double best = -1;
        for (JsonNode b : details) {
            JsonNode move = b.path("vbucketLevelInfo").path("move");
            if (move.has("averageTime") && move.has("remainingCount") && move.path("averageTime").asDouble() > 0) {
                double secs = move.path("remainingCount").asDouble() * move.path("averageTime").asDouble() / 1000 / movesPerNode;
                best = Math.max(best, 0) + secs;
            }
        }
        if (best >= 0) {
            return best;
        }
        return pct > 1 ? elapsedSeconds * (100 - pct) / pct : -1;
    }

    /** {@code POST /controller/stopRebalance} and waits until the task no longer runs. */
    private void stop(StepProgress progress) throws ConnectorException, InterruptedException {
        progress.action("stop the rebalance (cancel)", "POST /controller/stopRebalance?uuid=" + uuid);
        CouchbaseRest.Reply r = rest.post("/controller/stopRebalance?uuid=" + uuid, Map.of());
        if (!r.ok()) {
            throw new ConnectorException(Engine.COUCHBASE, "stop the rebalance", r.code() == 504
                    ? "the orchestrator cannot be reached, so stopping is unsafe (ns_server: " + CouchbaseRest.abbreviate(r.body())
                    + "); the rebalance goes on" : "HTTP " + r.code() + " " + CouchbaseRest.abbreviate(r.body()), ConnectorException.Kind.REFUSED, null);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            // a stale answer says notRunning while the rebalance may run on: not the end of the wait
            Optional<JsonNode> t = rebalanceTask();
            if (t.isEmpty() || !stale(t.get()) && !"running".equals(t.get().path("status").asText()) && !notRunningButRunning(t.get())) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
    }

    @Override
    public boolean isRetryable(Step step, ConnectorException e) {
        return e.isTransient();
    }

    @Override
    public void close() {
        rest.close();
    }
}
