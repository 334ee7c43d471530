package io.tabletop.executor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Concurrency that follows the cluster: how many replica moves may touch one server at once, changed while a
 * run goes on from what its moves show. Pure logic, fed by the run; one owner (the run holds its lock).
 *
 * <p>Each move's time is taken relative to its estimate (a large tablet is expected to take longer), and the
 * median of a window of moves that all started at the current level is compared with what lower levels did:
 * <ul>
 *   <li>it starts at the engine's default and probes upwards, {@link #STEP} at a time, while moves keep
 *       their pace: a level is worth it when it moves at least {@link #WORTH} times the data per second of the
 *       level below (so the time per move stays near its baseline as the number of moves grows);</li>
 *   <li>a level that is not worth it is left for the one below, and probing stops: that is where the
 *       cluster's bandwidth ends;</li>
 *   <li>when moves at a level slow down by {@link #SLOWER} against what that level did before (a server got
 *       slower, other load arrived), the level drops to {@link #BACK_OFF} of itself and probing starts again
 *       from there;</li>
 *   <li>when health degrades (a partition without a live leader or majority, a server that stops
 *       answering), the level halves and does not rise for two windows;</li>
 *   <li>never above the ceiling the operator set, never below 1.</li>
 * </ul>
 * Every change comes with its reason, for the journal and the run page.
 */
public final class AdaptiveConcurrency {
    /** Moves per server added at each probe. */
    static final int STEP = 2;
    /** A level must move this much more data per second than the level below to be kept. */
    static final double WORTH = 1.08;
    /** Moves this much slower than the same level did before: back off. */
    static final double SLOWER = 0.75;
    /** What a slow-down leaves of the level. */
    static final double BACK_OFF = 0.7;

    /** A change of level: from, to, and why. */
    public record Change(int from, int to, String reason) {
    }

    private final int ceiling;
    private int level;
    /** Changes so far; a move counts for the level it started under only if no change came since. */
    private int epoch;
    private final List<Double> window = new ArrayList<>();
    private final List<Double> seconds = new ArrayList<>();
    /** Throughput (moves per estimated-second, per server) each level showed since the last back-off. */
    private final Map<Integer, Double> throughput = new HashMap<>();
    /** The level before the last probe upwards, or 0. */
    private int below;
    private boolean settled;
    private int healthHold;

    public AdaptiveConcurrency(int start, int ceiling) {
        if (start < 1 || ceiling < start) {
            throw new IllegalArgumentException("need 1 <= start (" + start + ") <= ceiling (" + ceiling + ")");
        }
        this.level = start;
        this.ceiling = ceiling;
    }

    public int level() {
        return level;
    }

    public int ceiling() {
        return ceiling;
    }

    /** The epoch a move starting now belongs to; give it back to {@link #moveEnded}. */
    public int epoch() {
        return epoch;
    }

    /** Moves that must end at a level before it is judged. */
    int windowSize() {
        return Math.max(3, (level + 1) / 2);
    }

    /**
     * A replica move ended.
     *
     * @param epoch    {@link #epoch()} when it started
     * @param took     its time, in seconds
     * @param expected its estimate, in seconds (its size over the engine's copy speed, plus the fixed cost)
     */
    public Optional<Change> moveEnded(int epoch, double took, double expected) {
        if (epoch != this.epoch || !(took > 0) || !(expected > 0)) {
            return Optional.empty();
        }
        window.add(took / expected);
        seconds.add(took);
        if (window.size() < windowSize()) {
            return Optional.empty();
        }
        double relative = median(window);
        double secs = median(seconds);
        window.clear();
        seconds.clear();
        double now = level / relative;
        if (healthHold > 0) {
            healthHold--;
        }
        Double before = throughput.get(level);
        if (before != null && now < SLOWER * before) {
            int to = Math.max(1, (int) Math.round(level * BACK_OFF));
            throughput.clear();
            below = 0;
            settled = false;
            return change(to, String.format(Locale.ROOT, "moves slowed down: %.1f s per move (median of the last %d), %.0f%% of the pace "
                    + "this level had", secs, windowSize(), 100 * now / before));
        }
        throughput.merge(level, now, (a, b) -> before == null ? b : (a + b) / 2);
        if (below > 0 && throughput.containsKey(below) && now < WORTH * throughput.get(below)) {
            int from = level;
            settled = true;
            int to = below;
            below = 0;
            return change(to, String.format(Locale.ROOT, "%d moves per server move no more data than %d (%.1f s per move): "
                    + "the servers' bandwidth is used; back to %d", from, to, secs, to));
        }
        if (!settled && healthHold == 0 && level < ceiling) {
            below = level;
            int to = Math.min(ceiling, level + STEP);
            return change(to, String.format(Locale.ROOT, "moves keep their pace (%.1f s per move, %.2f× their estimate): %d → %d%s",
                    secs, relative, level, to, to == ceiling ? " (the ceiling)" : ""));
        }
        return Optional.empty();
    }

    /** Health degraded while moves ran: half the level, and no rise for two windows. */
    public Optional<Change> healthDegraded(String why) {
        healthHold = 2;
        throughput.clear();
        below = 0;
        settled = false;
        window.clear();
        seconds.clear();
        int to = Math.max(1, level / 2);
        if (to == level) {
            return Optional.empty();
        }
        return change(to, "health degraded: " + why);
    }

    private Optional<Change> change(int to, String reason) {
        Change c = new Change(level, to, reason);
        level = to;
        epoch++;
        window.clear();
        seconds.clear();
        return to == c.from() ? Optional.empty() : Optional.of(c);
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
