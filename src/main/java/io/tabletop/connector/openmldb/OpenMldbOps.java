package io.tabletop.connector.openmldb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ClusterConnector.StepProgress;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The nameserver's ops, read for every step of a connector through one {@code ShowOPStatus} call at a time,
 * at most once per period: each call takes the nameserver's global lock and walks its finished-op list
 * (src/docs/openmldb.md, "Ops"), so steps share one reading instead of polling each their own. A waiter asks
 * for a reading newer than the one it has seen; the first caller past the period makes the call and the
 * others get its answer. No thread of its own. Thread-safe.
 */
final class OpenMldbOps {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One op as ShowOPStatus lists it. */
    record Op(long id, String type, String status, String task, String db, String name, int pid) {
        boolean running() {
            return status.equals("kInited") || status.equals("kDoing");
        }

        boolean failed() {
            return status.equals("kFailed") || status.equals("kCanceled");
        }

        boolean of(String[] p) {
            return db.equals(p[0]) && name.equals(p[1]) && pid == Integer.parseInt(p[2]);
        }

        String describe() {
            String op = "op " + id + " " + type + " of " + OpenMldbTopology.tableId(db, name) + "/" + pid;
            String at = task.equals("-") ? "" : " at task " + task;
            return switch (status) {
                case "kFailed" -> op + " failed" + at;
                case "kCanceled" -> op + " was cancelled" + at;
                case "kDone" -> op + " done";
                default -> op + " (" + status + at + ")";
            };
        }
    }

    /** One reading: its ops and a number that grows with each reading. */
    record Reading(long generation, long readAtNanos, List<Op> ops) {
        long maxId() {
            return ops.stream().mapToLong(Op::id).max().orElse(0);
        }

        List<Op> of(String[] p) {
            return ops.stream().filter(o -> o.of(p)).toList();
        }
    }

    private final OpenMldbRpc rpc;
    private final long periodNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition read = lock.newCondition();
    private Reading last = new Reading(0, Long.MIN_VALUE / 2, List.of());
    private boolean reading;
    private long calls;

    OpenMldbOps(OpenMldbRpc rpc, Duration period) {
        this.rpc = rpc;
        this.periodNanos = period.toNanos();
    }

    /** How many ShowOPStatus calls this reader made. */
    long calls() {
        lock.lock();
        try {
            return calls;
        } finally {
            lock.unlock();
        }
    }

    /** A reading made now (for a baseline before a call that creates an op): waits out the period, not longer. */
    Reading fresh(StepProgress progress) throws ConnectorException, InterruptedException {
        return after(currentGeneration(), progress);
    }

    private long currentGeneration() {
        lock.lock();
        try {
            return last.generation();
        } finally {
            lock.unlock();
        }
    }

    /**
     * A reading newer than generation {@code seen}: the next one due (at most one period after the last), made
     * by this caller or by another one waiting too.
     */
    Reading after(long seen, StepProgress progress) throws ConnectorException, InterruptedException {
        while (true) {
            long waitNanos;
            lock.lock();
            try {
                while (reading) {
                    read.await(200, TimeUnit.MILLISECONDS);
                }
                if (last.generation() > seen) {
                    return last;
                }
                waitNanos = last.readAtNanos() + periodNanos - System.nanoTime();
                if (waitNanos <= 0) {
                    reading = true;
                }
            } finally {
                lock.unlock();
            }
            if (waitNanos > 0) {
                if (progress.cancelRequested()) {
                    return null;
                }
                TimeUnit.NANOSECONDS.sleep(Math.min(waitNanos, TimeUnit.MILLISECONDS.toNanos(250))); // paces a remote poll
                continue;
            }
            Reading next = null;
            try {
                next = new Reading(0, System.nanoTime(), parse(rpc.ok("ShowOPStatus", JSON.createObjectNode())));
            } finally {
                lock.lock();
                try {
                    reading = false;
                    calls++;
                    if (next != null) {
                        last = new Reading(last.generation() + 1, next.readAtNanos(), next.ops());
                    }
                    read.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    static List<Op> parse(JsonNode reply) {
        List<Op> out = new ArrayList<>();
        for (JsonNode o : reply.path("op_status")) {
            out.add(new Op(o.path("op_id").asLong(), o.path("op_type").asText(), o.path("status").asText(), o.path("task_type").asText("-"),
                    o.path("db").asText(""), o.path("name").asText(), o.path("pid").asInt()));
        }
        return out;
    }

    /** How a wait on one partition's ops ended: the ops that ended after the baseline. */
    record Ended(List<Op> ops) {
        List<Op> failed() {
            return ops.stream().filter(Op::failed).toList();
        }
    }

    /**
     * Waits until no op of partition {@code p} is kInited or kDoing in a reading begun after {@code sentAtNanos}
     * (a reading begun before a call could not show the op it made), and returns those with an id above
     * {@code baseline} that ended. Throws {@link ConnectorException.Kind#STOPPED} when the operator cancels
     * (the op goes on in the nameserver), and {@link ConnectorException.Kind#OUTCOME_UNKNOWN} naming the op and
     * its task when one op stays on one task longer than {@code stall}.
     */
    Ended await(String[] p, long baseline, long sentAtNanos, Duration stall, StepProgress progress, double from, double to)
            throws ConnectorException, InterruptedException {
        long seen = currentGeneration();
        long sameSince = System.nanoTime();
        String stuckOn = null;
        while (true) {
            Reading r = after(seen, progress);
            if (r == null) {
                throw cancelled(p, null);
            }
            seen = r.generation();
            if (r.readAtNanos() - sentAtNanos < 0) {
                continue;
            }
            List<Op> mine = r.of(p);
            Op running = mine.stream().filter(Op::running).findFirst().orElse(null);
            if (running == null) {
                return new Ended(mine.stream().filter(o -> o.id() > baseline && !o.running()).toList());
            }
            String key = running.id() + "/" + running.status() + "/" + running.task();
            if (!key.equals(stuckOn) || running.status().equals("kInited")) {
                // waiting in its task queue behind another op is not being stuck: the clock starts when it runs
                stuckOn = key;
                sameSince = System.nanoTime();
            }
            if (progress.cancelRequested()) {
                throw cancelled(p, running);
            }
            if (System.nanoTime() - sameSince > stall.toNanos()) {
                throw new ConnectorException(Engine.OPENMLDB, running.type() + " of " + OpenMldbTopology.tableId(p[0], p[1]) + "/" + p[2],
                        running.describe() + " has not moved for " + minutes(stall) + "; the step stops waiting (the op goes on in the "
                                + "nameserver: look at the tablets' logs; a resume waits for it)", ConnectorException.Kind.OUTCOME_UNKNOWN, null);
            }
            progress.update(from + (to - from) * 0.5, running.describe());
        }
    }

    private static String minutes(Duration d) {
        return d.toMinutes() >= 1 ? d.toMinutes() + " min" : d.toSeconds() + " s";
    }

    private static ConnectorException cancelled(String[] p, Op running) {
        return new ConnectorException(Engine.OPENMLDB, "wait for the ops of " + OpenMldbTopology.tableId(p[0], p[1]) + "/" + p[2],
                "cancelled" + (running == null ? "" : " while " + running.describe() + " runs; the op goes on in the nameserver, and a resume "
                        + "waits for it"), ConnectorException.Kind.STOPPED, null);
    }
}
