package io.tabletop.connector;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The engine-neutral port every adapter implements. It takes and returns domain types only; vendor JSON,
 * CLIs and client types stay inside the adapter. Every failure is a {@link ConnectorException} naming the
 * engine, the operation and the cause.
 *
 * <p>Implementations are thread-safe: the poller reads snapshots while the executor runs several steps
 * at once, each on its own thread.
 */
public interface ClusterConnector extends AutoCloseable {

    /** A name for people: "Sandbox (built-in)", "kudu://127.0.0.1:7051". */
    String name();

    Engine engine();

    /** What the engine can do; the planner takes its rules from here. */
    EngineCapabilities capabilities();

    /** The cluster as it is now. */
    ClusterSnapshot snapshot() throws ConnectorException;

    /**
     * The time the cluster's work takes place in, for timing steps: the system clock, or a simulated
     * cluster's own (the sandbox).
     */
    default java.time.InstantSource clock() {
        return java.time.InstantSource.system();
    }

    /** The engine's own health verdict (Kudu: ksck). */
    HealthReport health() throws ConnectorException;

    /**
     * A health verdict no older than {@code maxAge}: a connector that has just asked the engine (Kudu: the
     * ksck a {@link #snapshot()} ran a moment before) may answer with that, instead of asking again.
     */
    default HealthReport health(java.time.Duration maxAge) throws ConnectorException {
        return health();
    }

    /**
     * Runs one step and returns when it has finished in the cluster. Blocking; reports progress as it
     * goes. Interruption asks it to stop waiting; the engine may still finish the step by itself.
     */
    void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException;

    /**
     * The engine command or request that {@link #execute} issues for this step, as an operator would type
     * it, for the audit log. Never contains a secret.
     */
    default String command(Step step) {
        return engine().wireName() + ": " + step.describe();
    }

    /**
     * Rows per table name, counted by the engine, where it can count (Kudu: a row-count scan); empty where
     * it cannot. Post-checks compare the counts before and after a run.
     */
    default Optional<Map<String, Long>> rowCounts() throws ConnectorException {
        return Optional.empty();
    }

    /**
     * As {@link #rowCounts()}, for the tables of a snapshot this connector has just read: an engine that
     * would list its tables first takes them from there instead of reading them again.
     */
    default Optional<Map<String, Long>> rowCounts(ClusterSnapshot justRead) throws ConnectorException {
        return rowCounts();
    }

    /**
     * Checks only this engine can make before a run, with what it knows beyond the snapshot (Couchbase:
     * each bucket's RAM quota per node against the data the forecast puts on each node).
     *
     * @param predicted the cluster as the plan predicts it afterwards
     * @param removed   the servers the run takes out
     */
    default List<CheckResult> engineChecks(ClusterSnapshot predicted, List<ServerId> removed) throws ConnectorException {
        return List.of();
    }

    /**
     * Checks only this engine can make after a run took {@code removed} out (Kudu: the tombstoned replicas
     * a drained tserver keeps, and what to do about them).
     */
    default List<CheckResult> engineChecksAfter(List<ServerId> removed) throws ConnectorException {
        return List.of();
    }

    /**
     * Changes what the engine needs changed while a run changes the cluster (OpenMLDB: {@code auto_failover}
     * off, or it refuses migrations) and returns each setting's value to put back afterwards; empty when
     * nothing was changed. The run journals the map before it starts and {@link #restoreAfterRun} it when
     * it ends; a resume restores what a killed run could not.
     */
    default Map<String, String> prepareRun() throws ConnectorException {
        return Map.of();
    }

    /**
     * A run is about to follow (its pre-check is being read): start, in the background, what the first step
     * would otherwise wait for. Returns at once and changes nothing on the cluster; the default does nothing.
     */
    default void prepareSteps() {
    }

    /** Puts back the settings {@link #prepareRun} changed. */
    /**
     * What a step of this kind risks on this engine, in the engine's own words where it has them, for the
     * preview; "" where nothing is to be said.
     */
    default String stepRisk(io.tabletop.domain.StepType type) {
        return "";
    }

    /**
     * How an operator puts {@code settings} back by hand with the engine's own tools, for the one line that says
     * a run left them changed; "" where there is no such command.
     */
    default String restoreCommand(Map<String, String> settings) {
        return "";
    }

    /**
     * Waits for engine-side work that an earlier process of a run started and that still runs after that
     * process stopped (OpenMLDB: the nameserver's ops for the run's partitions go on when {@code apply} is
     * killed), so that a resume follows it instead of sending anything beside it. {@code steps} are the run's
     * steps that were in flight when it stopped: work the engine runs that one of them could have started is
     * followed; other work on the same partitions is someone else's and refused (a {@link ConnectorException}).
     * Returns one line per piece of work it waited for, saying how it ended; the default waits for nothing.
     * Cancellable through {@code progress}.
     */
    default List<String> awaitLeftRunning(List<Step> steps, StepProgress progress) throws ConnectorException, InterruptedException {
        return List.of();
    }

    default void restoreAfterRun(Map<String, String> settings) throws ConnectorException {
    }

    /** A saved snapshot opened offline: it reads, plans and previews, and runs nothing. */
    default boolean readOnly() {
        return false;
    }

    /** Whether this connector can start a new, empty server that joins the cluster (the sandbox; a local cluster Tabletop started). */
    default boolean canAddServer() {
        return false;
    }

    /** Starts a new, empty server that joins the cluster; returns its id or address. */
    default String addServer() throws ConnectorException {
        throw new ConnectorException(engine(), "add a server", "this cluster's servers are started by its operator, not by Tabletop");
    }

    /** Releases what the connector holds. Idempotent. */
    @Override
    default void close() {
    }

    /** Progress of one running step. Called from the thread that runs the step. */
    @FunctionalInterface
    interface StepProgress {
        /** @param fraction 0..1, or a negative number when unknown */
        void update(double fraction, String message);

        /** A line of the engine's own output worth keeping in the run's log (a long engine command's progress). */
        default void log(String line) {
        }

        /**
         * A change to the cluster the step makes besides its own command (Kudu: the repair of a tablet left
         * with one voter too many), reported before it is made, with the exact command, for the audit log.
         */
        default void action(String what, String command) {
        }

        /**
         * Progress of the parts of a long engine step, by name (Couchbase: each node of a rebalance, 0..1).
         * Replaces the parts reported before.
         */
        default void parts(Map<String, Double> fractions) {
        }

        /**
         * Whether the operator has cancelled the run. A step the engine runs for a long time by itself (a
         * Couchbase rebalance) stops the engine's work when it sees this, and throws a
         * {@link ConnectorException.Kind#STOPPED} exception; short steps ignore it and finish.
         */
        default boolean cancelRequested() {
            return false;
        }

        StepProgress NONE = (f, m) -> {
        };
    }

    /**
     * The engine replaces a dead server's copies by itself, this long after the server stopped answering,
     * as its setting {@code setting} says (Kudu: {@code follower_unavailable_considered_failed_sec}, read from
     * the cluster's own flags).
     */
    record Replacement(String setting, java.time.Duration after, String source) {
        /** "follower_unavailable_considered_failed_sec = 300 s" */
        public String describe() {
            return setting + " = " + after.toSeconds() + " s";
        }
    }

    /** When the engine replaces a dead server's copies by itself; empty when it does not (the run rebuilds them). */
    default Optional<Replacement> deadCopyReplacement() throws ConnectorException {
        return Optional.empty();
    }

    /**
     * Milliseconds since each server's last heartbeat, as the engine sees it now ({@link Long#MAX_VALUE}: the
     * engine has declared it dead). A cheap read, made every few seconds while a run goes on, so that a server
     * that stops answering is known within seconds, not when a step first fails on it. Empty (the default)
     * when the engine has no cheap way to say: the run then learns of a dead server from its looks at the
     * cluster (a server the engine reports down) and from the steps that fail on it.
     */
    default Map<ServerId, Long> heartbeatAges() throws ConnectorException {
        return Map.of();
    }

    /** {@link #heartbeatAges()} as a snapshot has them, for a connector whose snapshot is cheap. */
    static Map<ServerId, Long> heartbeatAges(ClusterSnapshot c) {
        Map<ServerId, Long> out = new java.util.LinkedHashMap<>();
        for (var s : c.servers()) {
            out.put(s.id(), !s.state().isUp() ? Long.MAX_VALUE : s.heartbeatAgeMillis() == null ? 0L : s.heartbeatAgeMillis());
        }
        return out;
    }

    /**
     * Whether {@link #evictCopy} works here: the engine lets a dead server's copy be dropped from a partition's
     * config, after which it builds a new one at once.
     */
    default boolean canEvictDeadCopies() {
        return false;
    }

    /**
     * Drops the copy on {@code dead} (a server that stopped answering) from {@code partition}'s config, so
     * that the engine's own re-replication starts now (Kudu: {@code tablet change_config remove_replica}).
     */
    default void evictCopy(io.tabletop.domain.PartitionId partition, ServerId dead) throws ConnectorException {
        throw new ConnectorException(engine(), "remove the copy of " + partition + " on " + dead, "this engine does not let Tabletop drop a copy");
    }

    /** The exact command {@link #evictCopy} runs, for the audit log. */
    default String evictCommand(io.tabletop.domain.PartitionId partition, ServerId dead) {
        return engine().wireName() + ": remove the copy of " + partition + " on " + dead;
    }

    /**
     * Work the engine runs by itself right now that changes where data lives (Couchbase: a rebalance), as
     * the engine describes it: its id, the servers it takes out, its progress.
     *
     * @param id       the engine's id of the work (Couchbase 7.6: the rebalance_id; older: the status id)
     * @param removing the servers the work takes out of the cluster; empty when the engine does not say
     * @param percent  0..100
     */
    record EngineWork(String id, List<ServerId> removing, double percent, String describe) {
        public EngineWork {
            removing = List.copyOf(removing);
        }
    }

    /** The engine's own work running now, if any (the default: this engine runs none by itself). */
    default Optional<EngineWork> engineWork() throws ConnectorException {
        return Optional.empty();
    }

    /**
     * The cluster's identity for the lock that lets one operation at a time run on it from this machine:
     * the engine and the cluster's name or id as its snapshot gives it ({@code cluster}). A connector whose
     * cluster lives inside this process (the sandbox) adds what tells its cluster from another of that name.
     */
    default String lockKey(String cluster) {
        return engine().wireName() + ":" + cluster;
    }

    /**
     * Another operation in progress on the cluster, as the engine shows it to anyone (another machine's run,
     * an operator's own command): one line each, naming it, for the pre-check to refuse on. {@code own} are
     * the servers the run itself may have put in that state (a resumed removal's servers in maintenance),
     * which are not another operation. The default: the engine shows none. Reads the cluster.
     */
    default List<String> otherOperations(ClusterSnapshot snapshot, java.util.Collection<ServerId> own) throws ConnectorException {
        return List.of();
    }

    /**
     * Tells the connector that {@code work} belongs to the run it executes now (a resume recognised it from
     * its journal), so that the run's step follows it instead of refusing someone else's work.
     */
    default void adoptEngineWork(EngineWork work) {
    }

    /**
     * The addresses of the cluster's members the connector learned (Couchbase: every node's REST address
     * from the cluster's own node list); empty when it learns none. Addresses only, never a secret: a saved
     * connection keeps them so that the next start reaches the cluster after the typed node left.
     */
    default List<String> learnedMembers() {
        return List.of();
    }

    /** The member the connector talks to now, for people ("127.0.1.2:8091"); empty when that is not one address. */
    default Optional<String> talkingTo() {
        return Optional.empty();
    }

    /** Whether a step of this kind can be retried without harm after it failed. */
    default boolean isRetryable(Step step, ConnectorException e) {
        return e.isTransient();
    }
}
