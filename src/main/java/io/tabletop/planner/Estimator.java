package io.tabletop.planner;

import io.tabletop.domain.Step;
import io.tabletop.domain.EngineCapabilities;

import java.util.List;
import java.util.PriorityQueue;

/**
 * Estimates a plan's wall time by simulating the executor's scheduling ({@link StepScheduler}) with each
 * step's duration taken from the engine's declared speed. Pure.
 */
public final class Estimator {
    private Estimator() {
    }

    public static double stepSeconds(Step s, EngineCapabilities caps) {
        return switch (s.type()) {
            case MOVE_REPLICA -> caps.moveOverheadSeconds() + s.bytes() / caps.bytesPerSecond();
            case TRANSFER_LEADER -> caps.leaderTransferSeconds();
            case HEALTH_GATE -> 0.3;
            case ENTER_MAINTENANCE, EXIT_MAINTENANCE, UNREGISTER_SERVER -> 0.2;
            case STOP_SERVER -> 1.0;
            case ENGINE_REBALANCE, FAILOVER -> 0;
        };
    }

    /** Simulated seconds from the first step to the last, with {@code maxPerServer} steps per server. */
    public static double seconds(List<Step> steps, EngineCapabilities caps, int maxPerServer) {
        record Running(double end, Step step) {
        }
        StepScheduler scheduler = new StepScheduler(steps, maxPerServer);
        PriorityQueue<Running> running = new PriorityQueue<>((a, b) -> a.end != b.end
                ? Double.compare(a.end, b.end) : Integer.compare(a.step.index(), b.step.index()));
        double now = 0;
        while (true) {
            for (Step s : scheduler.next()) {
                running.add(new Running(now + stepSeconds(s, caps), s));
            }
            Running next = running.poll();
            if (next == null) {
                if (!scheduler.allStarted()) {
                    throw new IllegalStateException("estimator stalled with steps not started");
                }
                return now;
            }
            now = next.end;
            scheduler.finished(next.step);
        }
    }
}
