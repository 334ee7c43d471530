package io.tabletop.cli;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.Step;
import io.tabletop.domain.Units;
import io.tabletop.planner.BucketForecast;
import io.tabletop.planner.Phase;
import io.tabletop.planner.Plan;

import java.util.Locale;
import java.util.Map;

/** A plan as text for people: summary, checks, phases with their steps, before/after per server. */
final class PlanText {
    private PlanText() {
    }

    static String summary(Plan plan) {
        Plan.Summary s = plan.summary();
        return String.format(Locale.ROOT, "Plan: %d replica moves, %d leader transfers, %s to move, %d steps, estimated %s at %d moves per server",
                s.replicaMoves(), s.leaderTransfers(), Units.bytes(s.bytesToMove()), plan.steps().size(),
                Units.duration(s.estimatedSeconds()), s.maxMovesPerServer());
    }

    static String check(CheckResult c) {
        return String.format(Locale.ROOT, "%-5s %s: %s", c.verdict(), c.name(), c.message());
    }

    static String render(Plan plan) {
        StringBuilder b = new StringBuilder();
        b.append("Cluster ").append(plan.before().cluster()).append(" (").append(plan.before().engine().wireName()).append(")\n");
        b.append(summary(plan)).append("\n\nChecks\n");
        plan.checks().forEach(c -> b.append("  ").append(check(c)).append('\n'));
        for (Phase ph : plan.phases()) {
            b.append("\nPhase ").append(ph.index() + 1).append(": ").append(ph.title()).append('\n');
            for (Step s : plan.stepsOfPhase(ph.index())) {
                b.append(String.format(Locale.ROOT, "  %4d  %-44s %9s  %s%n", s.index() + 1, s.describe(),
                        s.bytes() > 0 ? Units.bytes(s.bytes()) : "", s.reason()));
            }
        }
        b.append("\nServer          replicas before → after   leaders before → after\n");
        Map<ServerId, ServerLoad> before = plan.loadsBefore();
        Map<ServerId, ServerLoad> after = plan.loadsAfter();
        for (ServerLoad l : before.values()) {
            ServerLoad a = after.get(l.server());
            b.append(String.format(Locale.ROOT, "%-15s %8d → %-14s %8d → %s%n", l.server(), l.replicas(),
                    a == null ? "removed" : String.valueOf(a.replicas()), l.leaders(), a == null ? "removed" : String.valueOf(a.leaders())));
        }
        b.append(forecast(plan));
        return b.toString();
    }

    /** Per bucket, for an engine that moves data itself: what each node holds before and after (empty otherwise). */
    static String forecast(Plan plan) {
        StringBuilder b = new StringBuilder();
        for (BucketForecast f : plan.forecast()) {
            b.append(String.format(Locale.ROOT, "%nBucket %s: %d vBuckets, %d replica(s) wanted, %d kept; %d copies to build, %d takeovers%n",
                    f.name(), f.vbuckets(), f.replicasWanted(), f.replicasKept(), f.copiesToBuild(), f.takeovers()));
            b.append("Node            active vBuckets    active items        replica vBuckets   replica items\n");
            for (BucketForecast.Node n : f.nodes()) {
                b.append(String.format(Locale.ROOT, "%-15s %5d → %-8s %7d → %-10s %5d → %-8s %7d → %s%n", n.server(),
                        n.activeBefore(), n.leaves() ? "leaves" : String.valueOf(n.activeAfter()),
                        n.activeItemsBefore(), n.leaves() ? "leaves" : String.valueOf(n.activeItemsAfter()),
                        n.replicasBefore(), n.leaves() ? "leaves" : String.valueOf(n.replicasAfter()),
                        n.replicaItemsBefore(), n.leaves() ? "leaves" : String.valueOf(n.replicaItemsAfter())));
            }
        }
        return b.toString();
    }
}
