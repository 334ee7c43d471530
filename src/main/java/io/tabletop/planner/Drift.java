package io.tabletop.planner;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What changed in the cluster since a plan was made, split into what matters for the steps still to run
 * (they would fail, or do the wrong thing: a new preview is needed) and what does not (noted). Pure.
 */
public final class Drift {
    private Drift() {
    }

    /** @param matters one line each; empty when the rest of the plan still fits the cluster */
    public record Report(List<String> matters, List<String> noted) {
        public boolean significant() {
            return !matters.isEmpty();
        }

        public String summary() {
            List<String> all = significant() ? matters : noted;
            return String.join("; ", all.subList(0, Math.min(5, all.size()))) + (all.size() > 5 ? "; and " + (all.size() - 5) + " more" : "");
        }
    }

    /** Compares the steps of {@code plan} not in {@code done} with the live cluster. */
    public static Report compare(Plan plan, ClusterSnapshot live, Collection<Integer> done) {
        List<String> matters = new ArrayList<>();
        List<String> noted = new ArrayList<>();
        Set<Integer> skip = new HashSet<>(done);
        ClusterSnapshot planned = plan.before();
        Set<PartitionId> touched = new HashSet<>();
        Set<ServerId> leavingMaintenance = new HashSet<>();
        for (Step s : plan.steps()) {
            if (s.partition() != null) {
                touched.add(s.partition());
            }
            if (s.type() == StepType.EXIT_MAINTENANCE) {
                leavingMaintenance.add(s.server());
            }
        }
        // The steps left, replayed on the live cluster in plan order: each must still make sense after
        // the ones before it (a leader handed to a server a move earlier in the plan brings there).
        Map<PartitionId, Partition> cur = new HashMap<>();
        for (Step s : plan.steps()) {
            if (skip.contains(s.index())) {
                continue;
            }
            if (s.type() == StepType.MOVE_REPLICA || s.type() == StepType.TRANSFER_LEADER) {
                Server to = live.server(s.to()).orElse(null);
                boolean expected = to != null && (to.state() == ServerState.LIVE
                        || (to.state() == ServerState.MAINTENANCE && leavingMaintenance.contains(to.id())));
                if (!expected) {
                    matters.add(s.describe() + ": " + s.to() + " is " + (to == null ? "gone" : to.state()));
                }
            }
            if (s.partition() == null) {
                continue;
            }
            Partition p = cur.computeIfAbsent(s.partition(), id -> live.partition(id).orElse(null));
            if (p == null) {
                matters.add("partition " + s.partition() + " is gone");
                continue;
            }
            if (s.type() == StepType.MOVE_REPLICA) {
                if (!p.isOn(s.from())) {
                    matters.add(s.describe() + ": " + s.from() + " no longer holds it" + (p.isOn(s.to()) ? " (it is on " + s.to() + " already)" : ""));
                } else if (p.isOn(s.to())) {
                    matters.add(s.describe() + ": " + s.to() + " holds a copy already");
                } else {
                    boolean leader = p.leader().map(s.from()::equals).orElse(false);
                    List<Replica> out = new ArrayList<>();
                    for (Replica r : p.replicas()) {
                        out.add(r.server().equals(s.from()) ? new Replica(s.to(),
                                leader ? ReplicaRole.LEADER : ReplicaRole.FOLLOWER) : r);
                    }
                    cur.put(p.id(), p.withReplicas(out));
                }
            } else if (s.type() == StepType.TRANSFER_LEADER) {
                if (!p.isOn(s.to())) {
                    matters.add(s.describe() + ": " + s.to() + " no longer holds a copy");
                } else {
                    if (!p.leader().map(s.from()::equals).orElse(false)) {
                        noted.add(s.describe() + ": the leader is " + p.leader().map(ServerId::value).orElse("none") + " now");
                    }
                    ServerId old = p.leader().orElse(null);
                    Partition q = old == null ? p : p.withRole(old, ReplicaRole.FOLLOWER);
                    cur.put(p.id(), q.withRole(s.to(), ReplicaRole.LEADER));
                }
            }
        }
        // New replicas on a server being removed: the plan would stop it with them still there.
        for (ServerId r : plan.removedServers()) {
            for (Partition p : live.partitions()) {
                if (p.isOn(r) && !touched.contains(p.id()) && planned.partition(p.id()).map(b -> !b.isOn(r)).orElse(true)) {
                    matters.add("partition " + p.id() + " landed on " + r + ", which is being removed");
                }
            }
        }
        // An engine that moves data in its own rebalance plans from the whole membership: a node that joined,
        // left or went down since the preview changes what its rebalance does (Couchbase would include a node
        // added meanwhile), so the forecast no longer describes the run.
        boolean engineRebalanceLeft = plan.steps().stream().anyMatch(s -> s.type() == StepType.ENGINE_REBALANCE && !skip.contains(s.index()));
        if (engineRebalanceLeft && plan.capabilities().engineRebalance()) {
            Set<ServerId> before = new HashSet<>();
            planned.servers().forEach(s -> before.add(s.id()));
            for (Server s : live.servers()) {
                if (!before.contains(s.id())) {
                    matters.add(s.id() + " joined since the preview: the engine's rebalance would include it");
                }
            }
            for (Server s : planned.servers()) {
                Server now = live.server(s.id()).orElse(null);
                if (now == null && !plan.removedServers().contains(s.id())) {
                    matters.add(s.id() + " left since the preview");
                } else if (now != null && s.state().isUp() && !now.state().isUp() && !plan.removedServers().contains(s.id())) {
                    matters.add(s.id() + " went down since the preview");
                }
            }
        }
        int elsewhere = 0;
        for (Partition p : live.partitions()) {
            if (!touched.contains(p.id()) && planned.partition(p.id()).map(b -> !Set.copyOf(b.replicas()).equals(Set.copyOf(p.replicas()))).orElse(true)) {
                elsewhere++;
            }
        }
        if (elsewhere > 0) {
            noted.add(elsewhere + " partition(s) the plan does not touch changed (moved or re-elected)");
        }
        for (Server s : planned.servers()) {
            Server now = live.server(s.id()).orElse(null);
            if (now != null && now.state() != s.state()) {
                noted.add(s.id() + " is " + now.state() + " (was " + s.state() + ")");
            }
        }
        return new Report(List.copyOf(new LinkedHashSet<>(matters)), noted);
    }
}
