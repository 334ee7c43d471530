package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.EngineProvider;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepState;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.AppPaths;
import io.tabletop.service.RemovalService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three masters, as production runs them, on random ports: connected with the masters' RPC addresses
 * only. The leader master SIGKILLed after two moves of a drain: a new leader is elected, the moves go on
 * without the dead master, the unregister waits until it is back, rows equal and ksck OK after.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduThreeMastersTest {
    private static final String WAITS = "Kudu unregisters a tserver only when every master answers";

    @Test
    void aDrainGoesOnWhenTheLeaderMasterIsKilled() throws Exception {
        try (LocalKuduCluster cluster = threeMasters()) {
            Operator op = new Operator(cluster, 2);
            Drained d = drain(cluster, op);
            assertNotNull(op.killed.get(), "the leader master was killed mid-run");
            assertTrue(op.leftOut.get() != null && op.leftOut.get().contains(op.killed.get()),
                    "the run says which master it left out: " + op.leftOut.get());
            assertTrue(op.waited.get() != null && op.waited.get().contains(op.killed.get()) && op.waited.get().contains("kudu tserver unregister "),
                    "the unregister said it waits for the master that is down, and what to run instead: " + op.waited.get());
            d.assertClean();
        }
    }

    /** A follower master down before Tabletop connects: it reports no web UI; the preview warns; the drain goes on. */
    @Test
    void aMasterDownAtConnectIsLeftOutWithAWarning() throws Exception {
        try (LocalKuduCluster cluster = threeMasters()) {
            String follower = masters(cluster, "FOLLOWER");
            cluster.kill(follower);
            Operator op = new Operator(cluster, -1);
            op.killed.set(follower);
            Drained d = drain(cluster, op);
            assertTrue(d.pre.checks().stream().anyMatch(x -> x.name().equals("Masters") && x.verdict() == Verdict.WARN
                    && x.message().contains(follower) && x.message().contains("2 of 3")), d.pre.checks().toString());
            assertTrue(op.waited.get() != null && op.waited.get().contains(follower), "the unregister waited for " + follower);
            d.assertClean();
        }
    }

    private static LocalKuduCluster threeMasters() throws Exception {
        LocalKuduCluster cluster = LocalKuduCluster.start(KuduBinary.locate(Path.of("target", "kudu")), null, 3, 4, false, List.of(), List.of());
        try {
            cluster.loadTables(new int[]{8, 6}, 2_000, 3);
            return cluster;
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
    }

    /** What a drain with the masters' RPC addresses alone in the spec ended with. */
    private record Drained(RemovalService service, ClusterConnector c, RemovalService.PreCheck pre, RunResult result, ServerId victim) {
        void assertClean() throws Exception {
            assertEquals(RunState.SUCCEEDED, result.state(), result.failures().toString());
            List<CheckResult> post = service.postChecks(pre.plan(), c, pre.rows());
            assertTrue(post.stream().noneMatch(x -> x.verdict() == Verdict.BLOCK), post.toString());
            // The drained tserver kept its moved replicas as tombstones (KUDU-3486): said, with what to do.
            assertTrue(post.stream().anyMatch(x -> x.name().equals("Tombstones") && x.verdict() == Verdict.PASS
                    && x.message().matches(victim + " keeps \\d+ tombstoned replica\\(s\\).*") && x.message().contains("wipe")), post.toString());
            assertTrue(c.snapshot().partitions().stream().noneMatch(x -> x.isOn(victim)));
            assertTrue(c.snapshot().server(victim).isEmpty(), "unregistered");
            c.close();
        }
    }

    private static Drained drain(LocalKuduCluster cluster, Operator op) throws Exception {
        KuduProvider p = new KuduProvider(AppPaths.home());
        ClusterConnector c = p.open(p.parse("kudu://" + cluster.masterAddresses()), EngineProvider.OpenOptions.defaults());
        RemovalService service = new RemovalService();
        ServerId victim = c.snapshot().servers().get(0).id();
        RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(victim), true, 0.85));
        assertNotNull(pc.plan(), pc.checks().toString());
        RunResult r = service.execution(pc.plan(), c, ExecutorOptions.defaults(5), op, null).start().get(150, TimeUnit.SECONDS);
        return new Drained(service, c, pc, r, victim);
    }

    /**
     * The operator and systemd: kills the leader master after {@code killAfterMoves} moves (-1: never),
     * stops the drained tserver when asked (the spec names no local cluster), and restarts the killed
     * master when the unregister waits for it.
     */
    private static final class Operator implements ExecutionListener {
        final LocalKuduCluster cluster;
        final int killAfterMoves;
        final AtomicInteger moves = new AtomicInteger();
        final AtomicReference<String> killed = new AtomicReference<>();
        final AtomicReference<String> leftOut = new AtomicReference<>();
        final AtomicReference<String> waited = new AtomicReference<>();

        Operator(LocalKuduCluster cluster, int killAfterMoves) {
            this.cluster = cluster;
            this.killAfterMoves = killAfterMoves;
        }

        @Override
        public void log(Level level, String message) {
            if (message.contains("do not answer; the kudu CLI goes on with")) {
                leftOut.set(message);
            }
            if (message.contains(WAITS) && killed.get() != null && waited.getAndSet(message) == null) {
                act(() -> cluster.restart(killed.get()));
            }
        }

        @Override
        public void stepProgress(Step step, double fraction, String message) {
            String ask = "Stop the tablet server process at ";
            if (step.type() == StepType.STOP_SERVER && message.startsWith(ask)) {
                act(() -> cluster.stop(message.substring(ask.length()).split(" ")[0]));
            }
        }

        @Override
        public void stepStateChanged(Step step, StepState from, StepState to, String message) {
            if (step.type() == StepType.MOVE_REPLICA && to == StepState.SUCCEEDED && moves.incrementAndGet() == killAfterMoves) {
                act(() -> {
                    String leader = masters(cluster, "LEADER");
                    cluster.kill(leader);
                    killed.set(leader);
                });
            }
        }

        private static void act(Action a) {
            try {
                a.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private interface Action {
            void call() throws Exception;
        }
    }

    /** The RPC address of the first master in this role. */
    private static String masters(LocalKuduCluster cluster, String role) throws Exception {
        KuduCli.Result r = new KuduCli(cluster.binary(), cluster.masterAddresses()).run(30_000, "master", "list", "@MASTERS",
                "--columns=rpc-addresses,role", "--format=json");
        for (JsonNode m : new ObjectMapper().readTree(r.out())) {
            if (role.equals(m.path("role").asText())) {
                return m.path("rpc-addresses").asText();
            }
        }
        throw new AssertionError("no " + role + " master: " + r.out() + r.error());
    }
}
