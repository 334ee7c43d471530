package io.tabletop.planner;

import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.Engine;
import io.tabletop.domain.Table;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.TableId;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Server;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.Verdict;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlannerTest {
    private final Planner planner = new Planner();
    private final EngineCapabilities kudu = EngineCapabilities.kudu();

    @Test
    void removalMovesExactlyTheReplicasOnTheRemovedServer() throws Exception {
        ClusterSnapshot c = SandboxFixtures.kuduBaseline();
        ServerId ts2 = ServerId.of("ts-2");
        Plan plan = planner.plan(c, RemoveServers.of(ts2), kudu);

        List<Step> moves = plan.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).toList();
        long onServer = c.partitions().stream().filter(p -> p.isOn(ts2)).count();
        assertEquals(onServer, moves.size());
        assertTrue(moves.stream().allMatch(s -> s.from().equals(ts2)), "only replicas of ts-2 move");
        assertEquals(onServer, moves.stream().map(Step::partition).distinct().count(), "each partition moves once");
        assertInvariants(plan);
    }

    @Test
    void removalLeavesReplicasAndLeadersWithinOneAcrossRemainingServers() throws Exception {
        ClusterSnapshot c = SandboxFixtures.kuduBaseline();
        Plan plan = planner.plan(c, RemoveServers.of(ServerId.of("ts-2")), kudu);

        List<ServerLoad> remaining = plan.loadsAfter().values().stream().toList();
        assertEquals(4, remaining.size(), "ts-2 is unregistered in the predicted cluster");
        assertTrue(spread(remaining, ServerLoad::replicas) <= 1, "replica skew " + spread(remaining, ServerLoad::replicas));
        assertTrue(spread(remaining, ServerLoad::leaders) <= 1, "leader skew " + spread(remaining, ServerLoad::leaders));
        for (var t : c.tables()) {
            Map<ServerId, Integer> perServer = new HashMap<>();
            remaining.forEach(l -> perServer.put(l.server(), 0));
            plan.after().partitions().stream().filter(p -> p.table().equals(t.id()))
                    .flatMap(p -> p.replicas().stream()).forEach(r -> perServer.merge(r.server(), 1, Integer::sum));
            int max = perServer.values().stream().mapToInt(i -> i).max().orElseThrow();
            int min = perServer.values().stream().mapToInt(i -> i).min().orElseThrow();
            assertTrue(max - min <= 1, "table " + t.name() + " skew " + (max - min) + ": " + perServer);
        }
        assertInvariants(plan);
    }

    @Test
    void leadersOnTheRemovedServerAreTransferredBeforeItsReplicasMove() throws Exception {
        ClusterSnapshot c = SandboxFixtures.kuduBaseline();
        ServerId ts2 = ServerId.of("ts-2");
        Plan plan = planner.plan(c, RemoveServers.of(ts2), kudu);

        long led = c.partitions().stream().filter(p -> p.leader().filter(ts2::equals).isPresent()).count();
        List<Step> transfers = plan.stepsOfPhase(0).stream().filter(s -> s.type() == StepType.TRANSFER_LEADER).toList();
        assertEquals(led, transfers.size());
        int lastTransfer = transfers.stream().mapToInt(Step::index).max().orElseThrow();
        int firstMove = plan.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA).mapToInt(Step::index).min().orElseThrow();
        assertTrue(lastTransfer < firstMove);
        assertTrue(plan.steps().stream().filter(s -> s.type() == StepType.MOVE_REPLICA)
                .noneMatch(s -> plan.before().partition(s.partition()).orElseThrow().leader().filter(ts2::equals).isPresent()
                        && transfers.stream().noneMatch(t -> t.partition().equals(s.partition()))));
        assertInvariants(plan);
    }

    @Test
    void phaseEndsWithGateStopUnregisterGate() throws Exception {
        Plan plan = planner.plan(SandboxFixtures.kuduBaseline(), RemoveServers.of(ServerId.of("ts-2")), kudu);
        List<StepType> tail = plan.stepsOfPhase(0).stream().map(Step::type)
                .filter(t -> t != StepType.MOVE_REPLICA && t != StepType.TRANSFER_LEADER).toList();
        assertEquals(List.of(StepType.HEALTH_GATE, StepType.ENTER_MAINTENANCE, StepType.HEALTH_GATE,
                StepType.STOP_SERVER, StepType.UNREGISTER_SERVER, StepType.HEALTH_GATE), tail);
    }

    @Test
    void thePlanEndsOnAHealthGateAfterTheLeaderChanges() throws Exception {
        Plan plan = planner.plan(SandboxFixtures.kuduBaseline(), RemoveServers.of(ServerId.of("ts-2")), kudu);
        assertEquals("Balance leaders", plan.phases().get(1).title());
        assertEquals(StepType.HEALTH_GATE, plan.steps().get(plan.steps().size() - 1).type());
    }

    /** Review defect 1: the leader phase of the base plan is titled "Keep leader balance" when leaders are not balanced. */
    @Test
    void theEngineStrategyKeepsNoPhaseOfGatesAloneAndPredictsNoTransferItDoesNotMake() throws Exception {
        // Even leaders (3 each); ts-1's partitions are followed by ts-2 and ts-3 only, so handing its leaders
        // over leaves 5/4/3 and the base plan needs a phase that brings leader skew back to 0.
        List<Server> servers = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            servers.add(new Server(ServerId.of("ts-" + i), "ts-" + i + ":7050", null, ServerState.LIVE));
        }
        int[][] groups = {{1, 2, 3}, {2, 3, 4}, {3, 4, 2}, {4, 2, 3}};
        List<Partition> parts = new ArrayList<>();
        int n = 0;
        for (int[] g : groups) {
            for (int k = 0; k < 3; k++) {
                n++;
                parts.add(new Partition(PartitionId.of("p-" + n), TableId.of("t-1"), 1000L, 10L,
                        List.of(new Replica(ServerId.of("ts-" + g[0]), ReplicaRole.LEADER),
                                new Replica(ServerId.of("ts-" + g[1]), ReplicaRole.FOLLOWER),
                                new Replica(ServerId.of("ts-" + g[2]), ReplicaRole.FOLLOWER))));
            }
        }
        ClusterSnapshot c = new ClusterSnapshot(Engine.KUDU, "even-leaders", null, servers,
                List.of(new Table(TableId.of("t-1"), "t", 3)), parts);
        ServerId heavy = ServerId.of("ts-1");
        Plan base = planner.plan(c, new RemoveServers(List.of(heavy), false, 0.85, RemoveServers.Strategy.TABLETOP), kudu);
        assertTrue(base.phases().stream().anyMatch(ph -> ph.title().equals("Keep leader balance")), "the fixture exercises the case");
        Plan plan = planner.plan(c, new RemoveServers(List.of(heavy), true, 0.85, RemoveServers.Strategy.ENGINE), kudu);
        for (Phase ph : plan.phases()) {
            assertTrue(plan.stepsOfPhase(ph.index()).stream().anyMatch(s -> s.type() != StepType.HEALTH_GATE),
                    "phase " + ph.index() + " (" + ph.title() + ") holds more than health gates");
        }
        assertEquals(1, plan.phases().size());
        assertTrue(plan.steps().stream().noneMatch(s -> s.type() == StepType.TRANSFER_LEADER));
        // Partitions not on the drained server keep their leader in the prediction.
        for (Partition p : c.partitions()) {
            if (!p.isOn(heavy)) {
                assertEquals(p.leader(), plan.after().partition(p.id()).orElseThrow().leader(), p.id().value());
            }
        }
        assertInvariants(plan);
    }

    @Test
    void theEngineStrategyHandsEachServerToTheEnginesRebalancerBetweenTheSameGates() throws Exception {
        ClusterSnapshot c = SandboxFixtures.kuduBaseline();
        Plan plan = planner.plan(c, new RemoveServers(List.of(ServerId.of("ts-2")), true, 0.85, RemoveServers.Strategy.ENGINE), kudu);
        assertEquals(List.of(StepType.HEALTH_GATE, StepType.ENTER_MAINTENANCE, StepType.ENGINE_REBALANCE, StepType.HEALTH_GATE,
                StepType.STOP_SERVER, StepType.UNREGISTER_SERVER, StepType.HEALTH_GATE), plan.steps().stream().map(Step::type).toList());
        assertEquals(ServerId.of("ts-2"), plan.steps().get(2).server());
        assertTrue(plan.checks().stream().anyMatch(k -> k.name().equals("Strategy") && k.verdict() == Verdict.WARN));
        assertInvariants(plan);
        PlanRefusedException e = assertThrows(PlanRefusedException.class, () -> planner.plan(c,
                new RemoveServers(List.of(ServerId.of("ts-2")), true, 0.85, RemoveServers.Strategy.ENGINE), kudu.withEngineDrain(false)));
        assertTrue(e.getMessage().contains("cannot empty a server by itself"), e.getMessage());
    }

    @Test
    void twoServersAreRemovedInTwoPhasesInTheGivenOrder() throws Exception {
        ClusterSnapshot c = SandboxFixtures.kuduBaseline();
        Plan plan = planner.plan(c, new RemoveServers(List.of(ServerId.of("ts-4"), ServerId.of("ts-1")), true, 0.85), kudu);
        assertEquals(List.of(ServerId.of("ts-4")), plan.phases().get(0).servers());
        assertEquals(List.of(ServerId.of("ts-1")), plan.phases().get(1).servers());
        assertTrue(plan.stepsOfPhase(1).stream().filter(s -> s.type() == StepType.MOVE_REPLICA)
                .noneMatch(s -> s.to().equals(ServerId.of("ts-4"))), "nothing moves onto a server removed earlier");
        assertInvariants(plan);
    }

    @Test
    void locationRuleKeepsEachReplicaInItsOwnLocationAndWarnsAboutTheSkew() throws Exception {
        ClusterSnapshot c = SandboxFixtures.standard();
        Plan plan = planner.plan(c, RemoveServers.of(ServerId.of("ts-3")), kudu);

        for (Partition p : plan.after().partitions()) {
            Map<String, Long> perLocation = p.replicas().stream().collect(Collectors.groupingBy(
                    r -> plan.after().server(r.server()).orElseThrow().location(), Collectors.counting()));
            assertTrue(perLocation.values().stream().allMatch(n -> n <= 1), p.id() + " " + perLocation);
        }
        CheckResult spread = plan.checks().stream().filter(k -> k.name().equals("Location spread")).findFirst().orElseThrow();
        assertEquals(Verdict.WARN, spread.verdict(), spread.message());
        assertInvariants(plan);
    }

    @Test
    void removalBelowTheReplicationFactorIsRefusedNamingTheTable() {
        ClusterSnapshot c = SandboxFixtures.tight();
        PlanRefusedException e = assertThrows(PlanRefusedException.class, () -> planner.plan(c,
                new RemoveServers(List.of(ServerId.of("ts-1"), ServerId.of("ts-2")), true, 0.85), kudu));
        assertTrue(e.getMessage().contains("ledger (RF 3)"), e.getMessage());
        assertTrue(e.getMessage().contains("at most 1"), e.getMessage());
    }

    @Test
    void unknownServerIsRefused() {
        PlanRefusedException e = assertThrows(PlanRefusedException.class, () -> planner.plan(SandboxFixtures.tight(),
                RemoveServers.of(ServerId.of("ts-99")), kudu));
        assertTrue(e.getMessage().contains("unknown server(s): ts-99"), e.getMessage());
    }

    @Test
    void fullDestinationsAreNeverUsedAndAShortageIsRefusedNamingThem() {
        ClusterSnapshot c = SandboxFixtures.build("full", 4, 0, new String[]{"t"}, new int[]{30}, 3, 0, 3L);
        // Give every server a capacity barely above what it holds now.
        var loads = c.loads();
        ClusterSnapshot tightDisks = c.withServers(c.servers().stream().map(s -> new Server(s.id(), s.address(),
                s.location(), s.state(), (long) (loads.get(s.id()).bytes() / 0.85) + 1, loads.get(s.id()).bytes(), null)).toList());
        PlanRefusedException e = assertThrows(PlanRefusedException.class, () -> planner.plan(tightDisks,
                RemoveServers.of(ServerId.of("ts-1")), kudu));
        assertTrue(e.getMessage().contains("short of room"), e.getMessage());
    }

    @Test
    void samePlanForTheSameInput() throws Exception {
        ClusterSnapshot c = SandboxFixtures.standard();
        Plan a = planner.plan(c, RemoveServers.of(ServerId.of("ts-5")), kudu);
        Plan b = planner.plan(c, RemoveServers.of(ServerId.of("ts-5")), kudu);
        assertEquals(a.steps(), b.steps());
    }

    @Test
    void estimateFollowsTheConcurrencyLimit() throws Exception {
        Plan plan = planner.plan(SandboxFixtures.kuduBaseline(), RemoveServers.of(ServerId.of("ts-2")), kudu);
        double one = Estimator.seconds(plan.steps(), kudu, 1);
        double five = Estimator.seconds(plan.steps(), kudu, 5);
        assertTrue(five < one / 3, "five at a time (" + five + " s) must be much faster than one (" + one + " s)");
        assertEquals(five, plan.summary().estimatedSeconds(), 1e-9);
    }

    @Test
    void aPartitionsStepsStartInPlanOrderEvenWhenTheFirstWaitsForAServer() {
        ServerId a = ServerId.of("a");
        ServerId b = ServerId.of("b");
        ServerId c = ServerId.of("c");
        PartitionId p = PartitionId.of("p");
        PartitionId q = PartitionId.of("q");
        TableId t = TableId.of("t");
        List<Step> steps = List.of(
                Step.move(0, q, t, c, b, 1, "fills b").withIndex(0),
                Step.move(0, p, t, a, b, 1, "waits for b").withIndex(1),
                Step.transfer(0, p, t, b, c, "must wait for the move").withIndex(2));
        StepScheduler s = new StepScheduler(steps, 1);
        List<Step> first = s.next();
        assertEquals(List.of(steps.get(0)), first, "b is full, so p's move waits, and p's transfer must wait behind it");
        s.finished(steps.get(0));
        assertEquals(List.of(steps.get(1)), s.next());
        assertEquals(List.of(), s.next(), "the transfer waits until the move has finished");
        s.finished(steps.get(1));
        assertEquals(List.of(steps.get(2)), s.next());
    }

    static int spread(List<ServerLoad> loads, java.util.function.ToIntFunction<ServerLoad> f) {
        return loads.stream().mapToInt(f).max().orElse(0) - loads.stream().mapToInt(f).min().orElse(0);
    }

    static void assertInvariants(Plan plan) {
        List<String> v = Invariants.violations(plan.before(), plan.after(), plan.removedServers());
        assertTrue(v.isEmpty(), String.join("\n", v));
        for (Partition p : plan.after().partitions()) {
            assertEquals(plan.after().table(p.table()).orElseThrow().replicationFactor(),
                    p.replicas().stream().filter(r -> r.role().isVoter()).map(Replica::server).distinct().count());
        }
    }
}
