package io.tabletop.planner;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Plans {@link Restore}: servers that were live leave maintenance, each partition's replicas go back to
 * the servers that held them (a replica that must leave a server is moved to a server it is missing
 * from, so no partition ever has fewer copies), and leaders go back to where they were. A server that is
 * gone or down cannot take its replicas back: those stay where they are, and a check says how many.
 */
final class Restoration {
    private final ClusterSnapshot live;
    private final Restore goal;
    private final EngineCapabilities caps;
    private final List<CheckResult> checks = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private final List<Phase> phases = new ArrayList<>();

    Restoration(ClusterSnapshot live, Restore goal, EngineCapabilities caps) {
        this.live = live;
        this.goal = goal;
        this.caps = caps;
    }

    Plan run() throws PlanRefusedException {
        ClusterSnapshot target = goal.target();
        Set<ServerId> up = new HashSet<>();
        live.servers().stream().filter(s -> s.state().isUp()).forEach(s -> up.add(s.id()));
        List<String> unreachable = new ArrayList<>();
        for (Server s : target.servers()) {
            if (!up.contains(s.id()) && target.partitions().stream().anyMatch(p -> p.isOn(s.id()))) {
                unreachable.add(s.id() + (live.server(s.id()).isEmpty() ? " (gone)" : " (" + live.server(s.id()).get().state() + ")"));
            }
        }
        int phase = 0;
        if (caps.healthGates()) {
            steps.add(Step.gate(phase, null, "cluster healthy before anything changes"));
        }
        List<ServerId> back = new ArrayList<>();
        if (caps.maintenanceMode()) {
            for (Server s : live.servers()) {
                boolean wasLive = target.server(s.id()).map(t -> t.state() == ServerState.LIVE).orElse(false);
                if (s.state() == ServerState.MAINTENANCE && wasLive) {
                    steps.add(Step.server(phase, StepType.EXIT_MAINTENANCE, s.id(), s.id() + " was live before the run"));
                    back.add(s.id());
                }
            }
        }
        int leftWhere = 0;
        int moves = 0;
        for (Partition was : target.partitions()) {
            Partition now = live.partition(was.id()).orElse(null);
            if (now == null) {
                continue;
            }
            Set<ServerId> wanted = new TreeSet<>();
            was.replicas().forEach(r -> wanted.add(r.server()));
            Set<ServerId> current = new TreeSet<>();
            now.replicas().forEach(r -> current.add(r.server()));
            List<ServerId> add = wanted.stream().filter(s -> !current.contains(s) && up.contains(s)).toList();
            List<ServerId> remove = current.stream().filter(s -> !wanted.contains(s)).toList();
            int pairs = Math.min(add.size(), remove.size());
            leftWhere += remove.size() - pairs;
            ServerId leader = now.leader().orElse(null);
            for (int i = 0; i < pairs; i++) {
                ServerId from = remove.get(i);
                ServerId to = add.get(i);
                if (from.equals(leader) && caps.leaderTransfer()) {
                    ServerId heir = now.replicas().stream().filter(r -> r.role() == ReplicaRole.FOLLOWER && wanted.contains(r.server())
                            && up.contains(r.server())).map(Replica::server).findFirst().orElse(null);
                    if (heir != null) {
                        steps.add(Step.transfer(phase, now.id(), now.table(), from, heir, heir + " leads while the replica on " + from + " goes back"));
                        leader = heir;
                    } else if (!caps.moveLeaderReplicas()) {
                        leftWhere++;
                        continue;
                    }
                }
                steps.add(Step.move(phase, now.id(), now.table(), from, to, now.sizeOrZero(), "back to " + to + ", where it was before"));
                moves++;
            }
        }
        if (!steps.isEmpty()) {
            phases.add(new Phase(phase, "Restore replicas", back));
            if (caps.healthGates()) {
                steps.add(Step.gate(phase, null, "every replica back and the cluster healthy"));
            }
            phase++;
        }
        // Leaders back where they were, once every replica is.
        ClusterSnapshot afterMoves = PlanApplier.apply(live, Planner.indexed(steps));
        List<Step> transfers = new ArrayList<>();
        if (caps.leaderTransfer()) {
            for (Partition was : target.partitions()) {
                ServerId wasLeader = was.leader().orElse(null);
                Partition now = afterMoves.partition(was.id()).orElse(null);
                if (wasLeader == null || now == null || !up.contains(wasLeader)) {
                    continue;
                }
                ServerId leader = now.leader().orElse(null);
                if (leader != null && !leader.equals(wasLeader) && now.roleOn(wasLeader).map(r -> r == ReplicaRole.FOLLOWER).orElse(false)) {
                    transfers.add(Step.transfer(phase, now.id(), now.table(), leader, wasLeader, wasLeader + " led it before"));
                }
            }
        }
        if (!transfers.isEmpty()) {
            phases.add(new Phase(phase, "Restore leaders", List.of()));
            steps.addAll(transfers);
            if (caps.healthGates()) {
                steps.add(Step.gate(phase, null, "cluster healthy with the leaders back"));
            }
        }
        if (steps.stream().noneMatch(s -> s.type() != StepType.HEALTH_GATE)) {
            steps.clear();
            phases.clear();
        }
        List<Step> indexed = Planner.indexed(steps);
        ClusterSnapshot after = PlanApplier.apply(live, indexed);
        List<String> broken = Invariants.violations(live, after, List.of());
        if (!broken.isEmpty()) {
            throw new IllegalStateException("planner produced an unsafe plan: " + broken.subList(0, Math.min(5, broken.size())));
        }
        checks.add(CheckResult.pass("Restore", "back to " + goal.label() + ": " + moves + " replica move(s), " + transfers.size()
                + " leader transfer(s)" + (back.isEmpty() ? "" : ", " + back.size() + " server(s) out of maintenance")));
        if (!unreachable.isEmpty()) {
            checks.add(CheckResult.warn("Restore", "cannot go back to " + String.join(", ", unreachable) + ": " + leftWhere
                    + " replica(s) stay where they are now"));
        }
        if (indexed.isEmpty()) {
            checks.add(CheckResult.pass("Restore", "the cluster already matches " + goal.label() + ": nothing to do"));
        }
        return Planner.assemble(live, goal, caps, phases, indexed, checks, after);
    }
}
