package io.tabletop.connector.sandbox;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Step;
import io.tabletop.domain.Verdict;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The built-in sandbox as a {@link ClusterConnector}. Engine rules are Kudu's (maintenance mode, leader
 * step-down, health gates, stop and unregister). Its declared speed is the simulated speed divided by
 * the time scale, so that estimates match what the operator sees.
 */
public final class SandboxConnector implements ClusterConnector {
    /** Simulated per-move cost and bandwidth of a real cluster. */
    public static final double MOVE_OVERHEAD_SECONDS = 2.0;
    public static final double BYTES_PER_SECOND = 100e6;
    /**
     * The demo runs this many times faster than a real cluster would: the demo cluster's drain of one
     * server (about 120 moves of 10 MB to 5 GB, 5 at a time) then takes about half a minute.
     */
    public static final double DEMO_TIME_SCALE = 9;

    private final SandboxCluster cluster;
    private final ClockDriver driver;
    private volatile EngineCapabilities caps;
    private final String name;

    private SandboxConnector(String name, SandboxCluster cluster, ClockDriver driver, double timeScale) {
        this.name = name;
        this.cluster = cluster;
        this.driver = driver;
        this.caps = rules(timeScale);
    }

    /**
     * What the sandbox can do: a Kudu-like engine (maintenance mode, leader step-down, health gates, stop
     * and unregister, one phase per removed server) that neither drains a server by itself nor rebuilds a
     * dead server's copies (a run does that with its own moves). Its speed is the simulated speed
     * {@code timeScale} times faster, so that estimates match what the operator sees.
     */
    public static EngineCapabilities rules(double timeScale) {
        return EngineCapabilities.builder().maintenanceMode(true).leaderTransfer(true).moveLeaderReplicas(true)
                .stopServerStep(true).unregister(true).healthGates(true).onePhasePerServer(true).maxMovesPerServer(5)
                .speed(MOVE_OVERHEAD_SECONDS / timeScale, BYTES_PER_SECOND * timeScale, 0.3 / timeScale).build();
    }

    /** The demo sandbox: the standard cluster, running {@link #DEMO_TIME_SCALE} times faster than real. */
    public static SandboxConnector demo() {
        return realTime(SandboxFixtures.standard(), DEMO_TIME_SCALE);
    }

    public static SandboxConnector realTime(ClusterSnapshot initial, double timeScale) {
        SimClock clock = new SimClock();
        SandboxCluster c = new SandboxCluster(clock, initial, MOVE_OVERHEAD_SECONDS, BYTES_PER_SECOND);
        return new SandboxConnector("Sandbox (built-in)", c, ClockDriver.realTime(clock, timeScale), timeScale);
    }

    /** A sandbox whose virtual time jumps to the next event: a whole drain runs in milliseconds. */
    public static SandboxConnector instant(ClusterSnapshot initial) {
        SimClock clock = new SimClock();
        SandboxCluster c = new SandboxCluster(clock, initial, MOVE_OVERHEAD_SECONDS, BYTES_PER_SECOND);
        return new SandboxConnector("Sandbox (" + initial.cluster() + ")", c, ClockDriver.instant(clock), 1);
    }

    /** A sandbox whose time moves only when the caller moves {@code cluster().clock()}. */
    public static SandboxConnector manual(ClusterSnapshot initial) {
        SimClock clock = new SimClock();
        SandboxCluster c = new SandboxCluster(clock, initial, MOVE_OVERHEAD_SECONDS, BYTES_PER_SECOND);
        return new SandboxConnector("Sandbox (" + initial.cluster() + ", manual clock)", c, null, 1);
    }

    public SandboxCluster cluster() {
        return cluster;
    }

    /**
     * The sandbox handles a dead server as Kudu does ({@link SandboxCluster#kuduFailureModel}): the engine
     * replaces dead copies itself after {@code replaceAfter}, and refuses to move a tablet that is not healthy.
     */
    public SandboxConnector kuduFailureModel(java.time.Duration unresponsive, java.time.Duration replaceAfter) {
        cluster.kuduFailureModel(unresponsive, replaceAfter);
        caps = caps.withEngineRereplicates(true);
        return this;
    }

    /** The simulated cluster's snapshot is cheap: its heartbeat ages come from it. */
    @Override
    public Map<io.tabletop.domain.ServerId, Long> heartbeatAges() {
        return ClusterConnector.heartbeatAges(cluster.snapshot());
    }

    @Override
    public Optional<Replacement> deadCopyReplacement() {
        java.time.Duration d = cluster.replaceAfter();
        return d == null ? Optional.empty() : Optional.of(new Replacement("follower_unavailable_considered_failed_sec", d, "the sandbox's Kudu model"));
    }

    @Override
    public boolean canEvictDeadCopies() {
        return cluster.modelsKuduFailures();
    }

    @Override
    public void evictCopy(io.tabletop.domain.PartitionId partition, io.tabletop.domain.ServerId dead) throws ConnectorException {
        try {
            cluster.evictCopy(partition, dead).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ConnectorException ce) {
                throw ce;
            }
            throw new ConnectorException(Engine.SANDBOX, "remove replica", String.valueOf(e.getCause()), false, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectorException(Engine.SANDBOX, "remove replica", "interrupted", ConnectorException.Kind.OUTCOME_UNKNOWN, e);
        }
    }

    @Override
    public String evictCommand(io.tabletop.domain.PartitionId partition, io.tabletop.domain.ServerId dead) {
        return "sandbox: tablet change_config remove_replica " + partition + " " + dead;
    }

    @Override
    public String name() {
        return name;
    }

    /** A sandbox cluster lives inside this process: two of one name are two clusters. */
    @Override
    public String lockKey(String clusterName) {
        return "sandbox:" + clusterName + "@" + ProcessHandle.current().pid() + "-" + Integer.toHexString(System.identityHashCode(cluster));
    }

    @Override
    public Engine engine() {
        return Engine.SANDBOX;
    }

    @Override
    public EngineCapabilities capabilities() {
        return caps;
    }

    /** The simulated cluster's virtual time: moves are timed in it, as the operator sees them on the sandbox. */
    @Override
    public java.time.InstantSource clock() {
        SimClock c = cluster.clock();
        java.time.Instant epoch = java.time.Instant.EPOCH;
        return () -> epoch.plusMillis(c.nowMillis());
    }

    @Override
    public ClusterSnapshot snapshot() {
        return cluster.snapshot();
    }

    @Override
    public HealthReport health() {
        return cluster.health();
    }

    @Override
    public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
        CompletableFuture<Void> f = switch (step.type()) {
            case ENTER_MAINTENANCE -> cluster.enterMaintenance(step.server());
            case EXIT_MAINTENANCE -> cluster.exitMaintenance(step.server());
            case TRANSFER_LEADER -> cluster.transferLeader(step.partition(), step.from(), step.to());
            case MOVE_REPLICA -> cluster.moveReplica(step.partition(), step.from(), step.to(), progress::update);
            case STOP_SERVER -> cluster.stopServer(step.server());
            case UNREGISTER_SERVER -> cluster.unregister(step.server());
            case HEALTH_GATE -> {
                HealthReport h = cluster.health(step.server() == null ? Set.of() : Set.of(step.server()));
                if (h.verdict() == Verdict.BLOCK) {
                    throw new ConnectorException(Engine.SANDBOX, "health gate", h.summary()
                            + (h.details().isEmpty() ? "" : " (" + String.join("; ", h.details()) + ")"), true, null);
                }
                yield CompletableFuture.completedFuture(null);
            }
            case ENGINE_REBALANCE, FAILOVER -> throw new ConnectorException(Engine.SANDBOX, step.type().label().toLowerCase(java.util.Locale.ROOT),
                    "the sandbox moves replicas one by one; it has no engine rebalance or failover");
        };
        f.whenComplete((v, e) -> ended.incrementAndGet()); // on the clock's thread when an event ends it
        onClock.incrementAndGet();
        try {
            f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ConnectorException ce) {
                throw ce;
            }
            throw new ConnectorException(Engine.SANDBOX, step.describe(), String.valueOf(e.getCause()), false, e.getCause());
        } finally {
            onClock.decrementAndGet();
            returned.incrementAndGet();
        }
    }

    private final java.util.concurrent.atomic.AtomicInteger onClock = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Steps that have handed their work to the simulated cluster and wait for its clock. A test that moves
     * the clock itself moves it when every running step waits here: nothing else can happen meanwhile.
     */
    public int stepsWaitingOnClock() {
        return onClock.get();
    }

    private final java.util.concurrent.atomic.AtomicLong ended = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong returned = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Whether every step whose work the simulated cluster has ended has also returned to its caller: until
     * then the run has not seen what the clock did, and a test must not move the clock again.
     */
    public boolean stepsCaughtUp() {
        return returned.get() >= ended.get();
    }

    @Override
    public Optional<Map<String, Long>> rowCounts() {
        return Optional.of(cluster.rowCounts());
    }

    @Override
    public boolean canAddServer() {
        return true;
    }

    @Override
    public String addServer() {
        return cluster.addServer().value();
    }

    @Override
    public void close() {
        if (driver != null) {
            driver.close();
        }
    }
}
