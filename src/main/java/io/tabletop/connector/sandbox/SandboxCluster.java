package io.tabletop.connector.sandbox;

import io.tabletop.connector.ConnectorException;
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
import io.tabletop.domain.Units;
import io.tabletop.domain.Verdict;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * A simulated cluster that behaves like a Raft-replicated store: replica moves take time in proportion
 * to their size (a new replica appears as LEARNER, is promoted to FOLLOWER, then the source leaves),
 * leaders are re-elected among followers when a server stops or dies, maintenance mode keeps new
 * replicas off a server, and faults can be injected. Time is a {@link SimClock}.
 *
 * <p>Thread-safe: state is guarded by this object's monitor; futures complete outside it.
 */
public final class SandboxCluster {
    private static final Engine ENGINE = Engine.SANDBOX;

    private final SimClock clock;
    private final Instant epoch;
    private final String name;
    private final long moveOverheadMillis;
    private final double bytesPerMilli;
    private final Map<ServerId, Node> servers = new LinkedHashMap<>();
    private final List<Table> tables;
    private final Map<PartitionId, Partition> partitions = new LinkedHashMap<>();
    private final Map<PartitionId, Move> moves = new HashMap<>();
    private final Faults faults = new Faults();
    private long completedMoves;
    /** Copy bandwidth of each server, shared by the moves that touch it (bytes per ms); 0: unlimited. */
    private double serverBytesPerMilli;
    /** Servers slowed down: the share of their bandwidth left. */
    private final Map<ServerId, Double> slowed = new HashMap<>();
    /** Moves copying data under the bandwidth model. */
    private final List<Move> copying = new ArrayList<>();

    /**
     * Kudu's failure timeouts, when the sandbox models them ({@link #kuduFailureModel}): the master declares a
     * silent tserver dead after {@code unresponsiveMillis}; the leaders replace its copies after
     * {@code replaceAfterMillis}. -1: off (a killed server is DEAD at once, and its copies stay until a run
     * rebuilds them).
     */
    private long unresponsiveMillis = -1;
    private long replaceAfterMillis = -1;
    /** Partitions whose lost copy the engine is rebuilding now. */
    private final Set<PartitionId> rebuilding = new HashSet<>();

    private static final class Node {
        Server server;
        long diedAt = -1;
        /** The process is gone (killed): it serves nothing, whatever the master still reports. */
        boolean down;

        Node(Server s) {
            server = s;
        }
    }

    private static final class Move {
        final PartitionId partition;
        final ServerId from;
        final ServerId to;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        boolean finished;
        // the bandwidth model: bytes copied so far, the copy rate now (bytes per ms), since when, and which
        // completion event is the current one
        long size;
        double copied;
        double rate;
        long since;
        int generation;
        BiConsumer<Double, String> progress;

        Move(PartitionId p, ServerId from, ServerId to) {
            this.partition = p;
            this.from = from;
            this.to = to;
        }
    }

    /**
     * @param moveOverheadSeconds fixed virtual cost of one move
     * @param bytesPerSecond      virtual copy bandwidth of one move
     */
    public SandboxCluster(SimClock clock, ClusterSnapshot initial, double moveOverheadSeconds, double bytesPerSecond) {
        this.clock = clock;
        this.epoch = initial.takenAt() != null ? initial.takenAt() : Instant.parse("2026-01-01T00:00:00Z");
        this.name = initial.cluster();
        this.moveOverheadMillis = Math.round(moveOverheadSeconds * 1000);
        this.bytesPerMilli = bytesPerSecond / 1000.0;
        initial.servers().forEach(s -> servers.put(s.id(), new Node(s)));
        this.tables = initial.tables();
        initial.partitions().forEach(p -> partitions.put(p.id(), p));
    }

    public SimClock clock() {
        return clock;
    }

    public Faults faults() {
        return faults;
    }

    /**
     * Gives every server a copy bandwidth that the moves touching it share (as source or destination), as a
     * network link or a disk does: a move copies at its own speed while its servers have room, and slower as
     * more moves share them. Past {@code bytesPerSecond / per-move speed} moves per server, more moves no
     * longer move more data, only make each one slower. 0 turns the model off (each move at its own speed).
     */
    public synchronized void limitServerBandwidth(double bytesPerSecond) {
        serverBytesPerMilli = bytesPerSecond / 1000.0;
        reflow();
    }

    /**
     * Models Kudu's handling of a dead tserver, as a cluster with Kudu's defaults does it (60 s and 300 s):
     * a killed server keeps being reported live, with its heartbeat age growing, until the master declares it
     * dead after {@code unresponsive} ({@code tserver_unresponsive_timeout_ms}); {@code replaceAfter} after it
     * stopped answering ({@code follower_unavailable_considered_failed_sec}) the leaders replace its copies: a
     * new copy is built on a live server outside maintenance, then the dead one is evicted (3-4-3). Meanwhile
     * {@code move_replica} refuses every tablet that is not healthy ({@code ksck pre-move health check failed}),
     * and a move whose destination died leaves its new copy in the config until it too is replaced.
     */
    public synchronized void kuduFailureModel(java.time.Duration unresponsive, java.time.Duration replaceAfter) {
        unresponsiveMillis = unresponsive.toMillis();
        replaceAfterMillis = replaceAfter.toMillis();
    }

    /** Whether {@link #kuduFailureModel} is on. */
    public synchronized boolean modelsKuduFailures() {
        return replaceAfterMillis >= 0;
    }

    /** The delay after which dead copies are replaced, or null when the model is off. */
    public synchronized java.time.Duration replaceAfter() {
        return replaceAfterMillis < 0 ? null : java.time.Duration.ofMillis(replaceAfterMillis);
    }

    /**
     * Drops {@code dead}'s copy from {@code pid}'s config at once (Kudu's {@code change_config remove_replica});
     * the engine then builds a new copy elsewhere. Refused when the other copies hold no live majority.
     */
    public CompletableFuture<Void> evictCopy(PartitionId pid, ServerId dead) {
        String op = "remove replica " + dead + " of " + pid;
        synchronized (this) {
            Partition p = partitions.get(pid);
            if (p == null) {
                return failed(op, "Not found: tablet " + pid + " not found", false);
            }
            if (!p.isOn(dead)) {
                return CompletableFuture.completedFuture(null); // gone already: idempotent
            }
            long votersAfter = p.replicas().stream().filter(r -> r.role().isVoter() && !r.server().equals(dead)).count();
            long liveAfter = p.replicas().stream().filter(r -> r.role().isVoter() && !r.server().equals(dead) && isUp(r.server())).count();
            if (liveAfter * 2 <= votersAfter) {
                return failed(op, "Illegal state: tablet " + pid + " has no live majority to commit the change", true);
            }
            Partition q = p.without(dead);
            partitions.put(pid, q);
            if (p.leader().filter(dead::equals).isPresent()) {
                elect(q, dead);
            }
            scheduleRebuild(pid, null, 0);
        }
        return CompletableFuture.completedFuture(null);
    }

    /** The leaders replace the copies of a server that has stayed dead past {@code replaceAfter}. */
    private void replaceCopiesOf(ServerId dead) {
        synchronized (this) {
            Node n = servers.get(dead);
            if (n == null || !n.down) {
                return;
            }
            for (Partition p : new ArrayList<>(partitions.values())) {
                if (p.roleOn(dead).orElse(null) == ReplicaRole.LEARNER) {
                    partitions.put(p.id(), p.without(dead)); // a failed non-voter is just evicted
                } else if (p.isOn(dead)) {
                    scheduleRebuild(p.id(), dead, 0);
                }
            }
        }
    }

    /**
     * Builds a new copy of {@code pid} on the live server outside maintenance with the fewest replicas, then
     * evicts {@code dead}'s copy (null: it was evicted already); retried every 10 s while the partition has no
     * live majority or no server can take it. Caller holds the lock.
     */
    private void scheduleRebuild(PartitionId pid, ServerId dead, long delay) {
        clock.schedule(delay, () -> {
            synchronized (this) {
                Partition p = partitions.get(pid);
                if (p == null || (dead != null && !p.isOn(dead)) || rebuilding.contains(pid) || moves.containsKey(pid)) {
                    if (p != null && (rebuilding.contains(pid) || moves.containsKey(pid)) && (dead == null || p.isOn(dead))) {
                        scheduleRebuild(pid, dead, 10_000);
                    }
                    return;
                }
                int rf = tableRf(p);
                long liveVoters = p.replicas().stream().filter(r -> r.role().isVoter() && isUp(r.server())).count();
                if (dead == null && p.voterCount() >= rf) {
                    return; // nothing missing any more
                }
                ServerId dest = null;
                int fewest = Integer.MAX_VALUE;
                for (Node n : servers.values()) {
                    ServerId id = n.server.id();
                    if (n.down || n.server.state() != ServerState.LIVE || p.isOn(id)) {
                        continue;
                    }
                    int held = (int) partitions.values().stream().filter(q -> q.isOn(id)).count();
                    if (held < fewest || (held == fewest && id.compareTo(dest) < 0)) {
                        fewest = held;
                        dest = id;
                    }
                }
                int votersNow = (int) p.replicas().stream().filter(r -> r.role().isVoter()).count();
                if (dest == null || liveVoters * 2 <= votersNow) {
                    scheduleRebuild(pid, dead, 10_000); // no majority, or nowhere to go: Kudu keeps trying
                    return;
                }
                ServerId to = dest;
                rebuilding.add(pid);
                partitions.put(pid, p.withRole(to, ReplicaRole.LEARNER));
                long build = moveOverheadMillis + Math.round(p.sizeOrZero() / bytesPerMilli);
                clock.schedule(build, () -> {
                    synchronized (this) {
                        rebuilding.remove(pid);
                        Partition q = partitions.get(pid);
                        if (q == null || q.roleOn(to).orElse(null) != ReplicaRole.LEARNER) {
                            return;
                        }
                        if (!isUp(to)) {
                            partitions.put(pid, q.without(to));
                            return;
                        }
                        q = q.withRole(to, ReplicaRole.FOLLOWER);
                        if (dead != null && q.isOn(dead)) {
                            boolean led = q.leader().filter(dead::equals).isPresent();
                            q = q.without(dead);
                            partitions.put(pid, q);
                            if (led) {
                                elect(q, dead);
                            }
                        } else {
                            partitions.put(pid, q);
                        }
                    }
                });
            }
        });
    }

    /** A server stops heartbeating while it keeps serving (a hung heartbeat thread, a flapping network). */
    public synchronized void silence(ServerId id) {
        Node n = node(id);
        if (n.diedAt < 0) {
            n.diedAt = clock.nowMillis();
        }
    }

    /** A server's bandwidth drops to {@code share} of the limit (1: back to normal), as under other load. */
    public synchronized void slowServer(ServerId id, double share) {
        if (share >= 1) {
            slowed.remove(id);
        } else {
            slowed.put(id, share);
        }
        reflow();
    }

    /**
     * The bandwidth model: brings every copying move's bytes up to now, shares each server's bandwidth among
     * the moves on it, and schedules each move's end at its new rate (an older end event is ignored).
     */
    private void reflow() {
        if (copying.isEmpty()) {
            return;
        }
        long now = clock.nowMillis();
        Map<ServerId, Integer> on = new HashMap<>();
        for (Move m : copying) {
            m.copied = Math.min(m.size, m.copied + m.rate * (now - m.since));
            m.since = now;
            on.merge(m.from, 1, Integer::sum);
            on.merge(m.to, 1, Integer::sum);
        }
        for (Move m : copying) {
            double r = bytesPerMilli;
            if (serverBytesPerMilli > 0) {
                for (ServerId s : List.of(m.from, m.to)) {
                    r = Math.min(r, serverBytesPerMilli * slowed.getOrDefault(s, 1.0) / on.get(s));
                }
            }
            m.rate = Math.max(r, 1e-9);
            int gen = ++m.generation;
            long left = (long) Math.ceil((m.size - m.copied) / m.rate);
            clock.schedule(left, () -> copied(m, gen));
        }
    }

    private void copied(Move m, int generation) {
        synchronized (this) {
            if (m.finished || m.generation != generation) {
                return;
            }
            copying.remove(m);
            m.copied = m.size;
            reflow();
        }
        finish(m);
    }

    /** Reports a copying move's progress now and again, while it copies. */
    private void tick(Move m, long every) {
        double fraction;
        synchronized (this) {
            if (m.finished) {
                return;
            }
            long now = clock.nowMillis();
            fraction = m.size == 0 ? 0 : Math.min(0.99, (m.copied + m.rate * (now - m.since)) / m.size);
        }
        m.progress.accept(fraction, "copying " + Units.bytes(Math.round(m.size * fraction)) + " of " + Units.bytes(m.size));
        clock.schedule(every, () -> tick(m, every));
    }

    // ---- reading ---------------------------------------------------------------------------

    public synchronized ClusterSnapshot snapshot() {
        long now = clock.nowMillis();
        Map<ServerId, Long> used = new HashMap<>();
        for (Partition p : partitions.values()) {
            for (Replica r : p.replicas()) {
                used.merge(r.server(), p.sizeOrZero(), Long::sum);
            }
        }
        List<Server> out = new ArrayList<>();
        for (Node n : servers.values()) {
            Server s = n.server;
            long hb = n.diedAt >= 0 ? now - n.diedAt : Math.floorMod(now + s.id().hashCode() * 131L, 1000L);
            out.add(new Server(s.id(), s.address(), s.location(), s.state(), s.capacityBytes(),
                    used.getOrDefault(s.id(), 0L), hb));
        }
        return new ClusterSnapshot(ENGINE, name, epoch.plusMillis(now), out, tables, new ArrayList<>(partitions.values()));
    }

    /** Rows per table name: the sum of its partitions' rows, as a count of every row would find. */
    public synchronized Map<String, Long> rowCounts() {
        Map<String, Long> out = new TreeMap<>();
        for (Table t : tables) {
            out.put(t.name(), 0L);
        }
        for (Partition p : partitions.values()) {
            if (p.rows() != null) {
                for (Table t : tables) {
                    if (t.id().equals(p.table())) {
                        out.merge(t.name(), p.rows(), Long::sum);
                    }
                }
            }
        }
        return out;
    }

    /**
     * A new, empty server joins, as a freshly started tablet server registers with the master: the next
     * free {@code ts-N}, in the location with the fewest servers (if the cluster has locations), with the
     * capacity of the others. Returns its id.
     */
    public synchronized ServerId addServer() {
        int n = servers.size() + 1;
        while (servers.containsKey(ServerId.of("ts-" + n))) {
            n++;
        }
        ServerId id = ServerId.of("ts-" + n);
        Map<String, Integer> perLocation = new TreeMap<>();
        Long capacity = null;
        for (Node node : servers.values()) {
            if (node.server.location() != null) {
                perLocation.merge(node.server.location(), 1, Integer::sum);
            }
            if (capacity == null) {
                capacity = node.server.capacityBytes();
            }
        }
        String location = perLocation.entrySet().stream().min(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
        servers.put(id, new Node(new Server(id, "ts-" + n + "." + name + ":7050", location, ServerState.LIVE, capacity, 0L, 0L)));
        return id;
    }

    public synchronized int movesInFlight() {
        return moves.size();
    }

    public synchronized long completedMoves() {
        return completedMoves;
    }

    /** The cluster's own health verdict, as ksck would give it. */
    public HealthReport health() {
        return health(Set.of());
    }

    /**
     * Health with some servers ignored, as Kudu's {@code --ignored_tservers}: their being down is noted,
     * and partitions short of voters only because of them count as recovering, not as a failure.
     */
    public synchronized HealthReport health(Set<ServerId> ignored) {
        List<String> details = new ArrayList<>();
        Verdict verdict = Verdict.PASS;
        Set<ServerId> holding = new HashSet<>();
        if (servers.values().stream().anyMatch(n -> n.down || n.server.state() == ServerState.DEAD)) {
            for (Partition p : partitions.values()) {
                p.replicas().forEach(r -> holding.add(r.server()));
            }
        }
        for (Node n : servers.values()) {
            if (n.down || n.server.state() == ServerState.DEAD) {
                boolean ignore = ignored.contains(n.server.id());
                boolean empty = !holding.contains(n.server.id());
                details.add("Tablet server " + n.server.id() + " (" + n.server.address() + ") is UNAVAILABLE"
                        + (ignore ? " (ignored: being removed)" : empty ? " (holds no replicas)" : ""));
                if (!ignore && empty) {
                    verdict = verdict.worst(Verdict.WARN);
                } else if (!ignore) {
                    verdict = Verdict.BLOCK;
                }
            }
        }
        int under = 0;
        int leaderless = 0;
        int over = 0;
        int recovering = 0;
        Map<TableId, Integer> rfs = new HashMap<>();
        tables.forEach(t -> rfs.put(t.id(), t.replicationFactor()));
        for (Partition p : partitions.values()) {
            Integer tableRf = rfs.get(p.table());
            int rf = tableRf != null ? tableRf : p.voterCount();
            int upVoters = 0;
            boolean learner = false;
            ServerId leaderId = null;
            for (Replica r : p.replicas()) {
                if (r.role().isVoter() && isUp(r.server())) {
                    upVoters++;
                }
                learner |= r.role() == ReplicaRole.LEARNER;
                if (r.role() == ReplicaRole.LEADER) {
                    leaderId = r.server();
                }
            }
            if (leaderId == null || !isUp(leaderId)) {
                leaderless++;
                if (leaderless <= 5) {
                    details.add("Partition " + p.id() + " has no leader");
                }
            } else if (upVoters < rf) {
                long countingIgnored = p.replicas().stream().filter(r -> r.role().isVoter()
                        && (isUp(r.server()) || ignored.contains(r.server()))).count();
                if (countingIgnored >= rf) {
                    recovering++;
                    continue;
                }
                under++;
                if (under <= 5) {
                    details.add("Partition " + p.id() + " is under-replicated: " + upVoters + " of " + rf + " voters running");
                }
            }
            if (p.voterCount() > rf) {
                over++;
                details.add("Partition " + p.id() + " has " + p.voterCount() + " voters, more than its replication factor " + rf);
            }
            if (learner) {
                recovering++;
            }
        }
        if (leaderless > 0 || under > 0) {
            verdict = Verdict.BLOCK;
        }
        if (over > 0 || recovering > 0) {
            verdict = verdict.worst(Verdict.WARN);
        }
        String summary = switch (verdict) {
            case PASS -> "HEALTHY";
            case WARN -> "RECOVERING";
            case BLOCK -> "UNHEALTHY";
        } + ": " + servers.size() + " servers, " + partitions.size() + " partitions"
                + (under > 0 ? ", " + under + " under-replicated" : "")
                + (leaderless > 0 ? ", " + leaderless + " without a leader" : "")
                + (recovering > 0 ? ", " + recovering + " recovering" : "");
        return new HealthReport(verdict, summary, details);
    }

    // ---- server operations --------------------------------------------------------------------

    public CompletableFuture<Void> enterMaintenance(ServerId id) {
        return serverOp("enter maintenance " + id, 200, () -> setState(id, ServerState.MAINTENANCE), id);
    }

    public CompletableFuture<Void> exitMaintenance(ServerId id) {
        return serverOp("exit maintenance " + id, 200, () -> {
            Node n = node(id);
            if (n.server.state() == ServerState.MAINTENANCE) {
                n.server = n.server.withState(ServerState.LIVE);
            }
        }, id);
    }

    /** Graceful stop: leaders are handed to followers first, then the server goes DEAD. */
    public CompletableFuture<Void> stopServer(ServerId id) {
        return serverOp("stop " + id, 1000, () -> kill(id), id);
    }

    /** Brings a stopped or dead server back, in the state it had before (maintenance is persisted). */
    public synchronized void startServer(ServerId id) {
        Node n = servers.get(id);
        if (n != null && (n.down || n.server.state() == ServerState.DEAD)) {
            if (n.server.state() == ServerState.DEAD) {
                n.server = n.server.withState(ServerState.LIVE);
            }
            n.down = false;
            n.diedAt = -1;
            // a copy a move had begun on it before it died is evicted by its leader, as Kudu evicts a failed non-voter
            for (Partition p : new ArrayList<>(partitions.values())) {
                if (p.roleOn(id).orElse(null) == ReplicaRole.LEARNER && !moves.containsKey(p.id()) && !rebuilding.contains(p.id())) {
                    partitions.put(p.id(), p.without(id));
                }
            }
        }
    }

    private synchronized boolean isDiedAt(Node n, long died) {
        return n.down && n.diedAt == died;
    }

    /** Forgets a stopped server. Refused while it is up or still holds replicas. */
    public CompletableFuture<Void> unregister(ServerId id) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (this) {
            Node n = servers.get(id);
            if (n == null) {
                f.complete(null); // idempotent, as Kudu's unregister
                return f;
            }
            if (!n.down && n.server.state().isUp()) {
                return failed("unregister " + id, "Illegal state: tablet server " + id + " is still running; stop it first", false);
            }
            long held = partitions.values().stream().filter(p -> p.isOn(id)).count();
            if (held > 0) {
                return failed("unregister " + id, "Illegal state: tablet server " + id + " still holds " + held + " replica(s)", false);
            }
        }
        clock.schedule(200, () -> {
            synchronized (this) {
                servers.remove(id);
            }
            f.complete(null);
        });
        return f;
    }

    /** Kills a server at once (SIGKILL): leaders are re-elected among live followers, moves onto it fail. */
    public void kill(ServerId id) {
        List<Move> broken = new ArrayList<>();
        synchronized (this) {
            Node n = servers.get(id);
            if (n == null || n.down || n.server.state() == ServerState.DEAD) {
                return;
            }
            n.down = true;
            n.diedAt = clock.nowMillis();
            if (unresponsiveMillis < 0) {
                n.server = n.server.withState(ServerState.DEAD);
            } else {
                long died = n.diedAt;
                clock.schedule(unresponsiveMillis, () -> {
                    synchronized (this) {
                        if (n.down && n.diedAt == died) {
                            n.server = n.server.withState(ServerState.DEAD); // the master presumes it dead
                        }
                    }
                });
            }
            if (replaceAfterMillis >= 0) {
                long died = n.diedAt;
                clock.schedule(replaceAfterMillis, () -> {
                    if (isDiedAt(n, died)) {
                        replaceCopiesOf(id);
                    }
                });
            }
            for (Partition p : new ArrayList<>(partitions.values())) {
                if (p.leader().filter(id::equals).isPresent()) {
                    elect(p.withRole(id, ReplicaRole.FOLLOWER), id);
                }
            }
            for (Iterator<Move> it = moves.values().iterator(); it.hasNext(); ) {
                Move m = it.next();
                if (m.to.equals(id)) {
                    it.remove();
                    m.finished = true;
                    copying.remove(m);
                    Partition p = partitions.get(m.partition);
                    if (replaceAfterMillis < 0) {
                        partitions.put(p.id(), p.without(id));
                    } // Kudu keeps the new copy in the config until the leader evicts it as failed
                    broken.add(m);
                }
            }
            reflow();
        }
        for (Move m : broken) {
            m.done.completeExceptionally(new ConnectorException(ENGINE, "move replica " + m.partition + " " + m.from + " → " + m.to,
                    "Network error: destination tablet server " + m.to + " died during the tablet copy", ConnectorException.Kind.SERVER_LOST, null));
        }
    }

    // ---- partition operations -------------------------------------------------------------------

    public CompletableFuture<Void> transferLeader(PartitionId pid, ServerId from, ServerId to) {
        String op = "transfer leader of " + pid + " " + from + " → " + to;
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (this) {
            Partition p = partitions.get(pid);
            if (p == null) {
                return failed(op, "Not found: partition " + pid, false);
            }
            if (p.leader().filter(to::equals).isPresent()) {
                f.complete(null); // already there: idempotent
                return f;
            }
            if (p.roleOn(to).orElse(null) != ReplicaRole.FOLLOWER) {
                return failed(op, "Invalid argument: " + to + " is not a voter in the active config", false);
            }
            if (!isUp(to)) {
                return failed(op, "Network error: " + to + " does not answer", ConnectorException.Kind.SERVER_LOST);
            }
        }
        clock.schedule(300, () -> {
            synchronized (this) {
                Partition p = partitions.get(pid);
                if (p != null && p.isOn(to) && isUp(to)) {
                    Partition q = p;
                    for (Replica r : p.replicas()) {
                        if (r.role() == ReplicaRole.LEADER) {
                            q = q.withRole(r.server(), ReplicaRole.FOLLOWER);
                        }
                    }
                    partitions.put(pid, q.withRole(to, ReplicaRole.LEADER));
                }
            }
            f.complete(null);
        });
        return f;
    }

    /**
     * Moves one replica: {@code to} appears as LEARNER, copies the data, becomes FOLLOWER, then
     * {@code from} leaves (a leader steps down first). Completes when the source has left.
     */
    public CompletableFuture<Void> moveReplica(PartitionId pid, ServerId from, ServerId to, BiConsumer<Double, String> progress) {
        String op = "move replica " + pid + " " + from + " → " + to;
        Move move;
        long duration;
        long size;
        synchronized (this) {
            Partition p = partitions.get(pid);
            if (p == null) {
                return failed(op, "Not found: " + pid + ": tablet not found", false);
            }
            if (!p.isOn(from)) {
                return failed(op, "Not found: " + from + " holds no replica of " + pid, false);
            }
            if (replaceAfterMillis >= 0) {
                String unhealthy = unhealthy(p);
                if (unhealthy != null) {
                    return failed(op, "Corruption: ksck pre-move health check failed: tablet " + pid + " is " + unhealthy,
                            ConnectorException.Kind.NOT_YET);
                }
            }
            if (p.isOn(to)) {
                return failed(op, "Illegal state: tablet " + pid + ": replica " + to + " is already present", ConnectorException.Kind.DRIFT);
            }
            Node dest = servers.get(to);
            if (dest == null) {
                return failed(op, "Not found: tablet server " + to + " is not registered", false);
            }
            if (dest.server.state() == ServerState.DEAD) {
                return failed(op, "Illegal state: destination " + to + " is not running", ConnectorException.Kind.SERVER_LOST);
            }
            if (dest.down) {
                return failed(op, "Network error: destination tablet server " + to + " does not answer", ConnectorException.Kind.SERVER_LOST);
            }
            if (moves.containsKey(pid)) {
                return failed(op, "Illegal state: tablet " + pid + " is already changing its config", true);
            }
            if (p.leader().filter(this::isUp).isEmpty()) {
                return failed(op, "Illegal state: tablet " + pid + " has no leader to copy from", true);
            }
            move = new Move(pid, from, to);
            moves.put(pid, move);
            partitions.put(pid, p.withRole(to, ReplicaRole.LEARNER));
            size = p.sizeOrZero();
            duration = moveOverheadMillis + Math.round(size / bytesPerMilli);
        }
        Faults.Decision fault = faults.onMoveStart(pid, from, to);
        if (serverBytesPerMilli > 0) {
            move.size = size;
            move.progress = progress;
            long every = Math.max(1, duration / 20);
            // the fixed cost varies from move to move (a real one: 2.0-3.4 s), the same for a partition every time
            long overhead = Math.round(moveOverheadMillis * (0.75 + 0.5 * Math.floorMod(pid.value().hashCode() * 2654435761L, 1000L) / 1000.0));
            clock.schedule(overhead, () -> {
                synchronized (this) {
                    if (move.finished) {
                        return;
                    }
                    move.since = clock.nowMillis();
                    copying.add(move);
                    reflow();
                }
                clock.schedule(every, () -> tick(move, every));
            });
            if (fault.killAtFraction() != null) {
                clock.schedule(Math.round(duration * fault.killAtFraction()), () -> kill(fault.kill()));
            }
            if (fault.failAtFraction() != null) {
                clock.schedule(Math.round(duration * fault.failAtFraction()), () -> abort(move, fault.message()));
            }
            return move.done;
        }
        for (int i = 1; i <= 19; i++) {
            double fraction = i / 20.0;
            long copied = Math.round(size * fraction);
            clock.schedule(Math.round(duration * fraction), () -> {
                if (!isFinished(move)) {
                    progress.accept(fraction, "copying " + Units.bytes(copied) + " of " + Units.bytes(size));
                }
            });
        }
        if (fault.killAtFraction() != null) {
            clock.schedule(Math.round(duration * fault.killAtFraction()), () -> kill(fault.kill()));
        }
        if (fault.failAtFraction() != null) {
            clock.schedule(Math.round(duration * fault.failAtFraction()), () -> abort(move, fault.message()));
        }
        clock.schedule(duration, () -> finish(move));
        return move.done;
    }

    private synchronized boolean isFinished(Move m) {
        return m.finished;
    }

    private void abort(Move m, String message) {
        synchronized (this) {
            if (m.finished) {
                return;
            }
            m.finished = true;
            moves.remove(m.partition);
            if (copying.remove(m)) {
                reflow();
            }
            Partition p = partitions.get(m.partition);
            if (p.roleOn(m.to).orElse(null) == ReplicaRole.LEARNER) {
                partitions.put(p.id(), p.without(m.to));
            }
        }
        m.done.completeExceptionally(new ConnectorException(ENGINE, "move replica " + m.partition + " " + m.from + " → " + m.to,
                message, true, null));
    }

    private void finish(Move m) {
        synchronized (this) {
            if (m.finished) {
                return;
            }
            m.finished = true;
            moves.remove(m.partition);
            Partition p = partitions.get(m.partition).withRole(m.to, ReplicaRole.FOLLOWER);
            boolean wasLeader = p.leader().filter(m.from::equals).isPresent();
            p = p.without(m.from);
            partitions.put(p.id(), p);
            if (wasLeader) {
                elect(p, m.from);
            }
            completedMoves++;
        }
        m.done.complete(null);
    }

    /** Makes the up voter whose server leads least the leader (an election after a leader left). */
    private void elect(Partition p, ServerId leaving) {
        Map<ServerId, Integer> leads = new HashMap<>();
        for (Partition q : partitions.values()) {
            q.leader().ifPresent(l -> leads.merge(l, 1, Integer::sum));
        }
        ServerId best = null;
        for (Replica r : p.replicas()) {
            if (r.role() != ReplicaRole.FOLLOWER || r.server().equals(leaving) || !isUp(r.server())) {
                continue;
            }
            if (best == null || leads.getOrDefault(r.server(), 0) < leads.getOrDefault(best, 0)
                    || (leads.getOrDefault(r.server(), 0).equals(leads.getOrDefault(best, 0)) && r.server().compareTo(best) < 0)) {
                best = r.server();
            }
        }
        partitions.put(p.id(), best == null ? p : p.withRole(best, ReplicaRole.LEADER));
    }

    // ---- helpers -----------------------------------------------------------------------------

    private CompletableFuture<Void> serverOp(String op, long millis, Runnable action, ServerId id) {
        synchronized (this) {
            if (!servers.containsKey(id)) {
                return failed(op, "Not found: Requested tserver " + id + " has not been registered", false);
            }
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        clock.schedule(millis, () -> {
            try {
                action.run();
                f.complete(null);
            } catch (RuntimeException e) {
                f.completeExceptionally(new ConnectorException(ENGINE, op, e.getMessage(), false, e));
            }
        });
        return f;
    }

    private synchronized void setState(ServerId id, ServerState state) {
        Node n = node(id);
        if (n.server.state() != ServerState.DEAD) {
            n.server = n.server.withState(state);
        }
    }

    private Node node(ServerId id) {
        Node n = servers.get(id);
        if (n == null) {
            throw new IllegalStateException("tablet server " + id + " has not been registered");
        }
        return n;
    }

    private boolean isUp(ServerId id) {
        Node n = servers.get(id);
        return n != null && !n.down && n.server.state().isUp();
    }

    private int tableRf(Partition p) {
        for (Table t : tables) {
            if (t.id().equals(p.table())) {
                return t.replicationFactor();
            }
        }
        return p.voterCount();
    }

    private static CompletableFuture<Void> failed(String op, String reason, boolean transientFailure) {
        return CompletableFuture.failedFuture(new ConnectorException(ENGINE, op, reason, transientFailure, null));
    }

    private static CompletableFuture<Void> failed(String op, String reason, ConnectorException.Kind kind) {
        return CompletableFuture.failedFuture(new ConnectorException(ENGINE, op, reason, kind, null));
    }

    /** Why ksck would call {@code p} unhealthy (a copy on a server that does not answer, a copy being built, a voter missing), or null. */
    private String unhealthy(Partition p) {
        for (Replica r : p.replicas()) {
            if (!isUp(r.server())) {
                return "UNDER_REPLICATED: its copy on " + r.server() + " is unavailable";
            }
            if (r.role() == ReplicaRole.LEARNER) {
                return "RECOVERING: a new copy is being built on " + r.server();
            }
        }
        int rf = tableRf(p);
        if (p.voterCount() != rf) {
            return (p.voterCount() < rf ? "UNDER_REPLICATED" : "over-replicated") + ": " + p.voterCount() + " voters, replication factor " + rf;
        }
        return null;
    }
}
