package io.tabletop.connector.sandbox;

import java.util.PriorityQueue;

/**
 * The sandbox's virtual time: a clock and a queue of timed events. Time moves only when a driver moves
 * it: {@link #advanceBy} (real time, scaled) or {@link #runNext} (jump to the next event, so tests run in
 * milliseconds). Events run on the driving thread, in time order, outside the clock's lock.
 * Thread-safe.
 */
public final class SimClock {
    private final Object lock = new Object();
    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private long nowMillis;
    private long seq;

    private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            return at != o.at ? Long.compare(at, o.at) : Long.compare(seq, o.seq);
        }
    }

    public long nowMillis() {
        synchronized (lock) {
            return nowMillis;
        }
    }

    /** Runs {@code action} once {@code delayMillis} of virtual time have passed. */
    public void schedule(long delayMillis, Runnable action) {
        synchronized (lock) {
            queue.add(new Event(nowMillis + Math.max(0, delayMillis), seq++, action));
            lock.notifyAll();
        }
    }

    /** Moves time forward by {@code millis}, running every event that falls due, in order. */
    public void advanceBy(long millis) {
        long target;
        synchronized (lock) {
            target = nowMillis + millis;
        }
        while (true) {
            Event e;
            synchronized (lock) {
                Event head = queue.peek();
                if (head == null || head.at > target) {
                    nowMillis = Math.max(nowMillis, target);
                    return;
                }
                e = queue.poll();
                nowMillis = Math.max(nowMillis, e.at);
            }
            e.action.run();
        }
    }

    /** Jumps to the next event and runs it. Returns false when nothing is scheduled. */
    public boolean runNext() {
        Event e;
        synchronized (lock) {
            e = queue.poll();
            if (e == null) {
                return false;
            }
            nowMillis = Math.max(nowMillis, e.at);
        }
        e.action.run();
        return true;
    }

    /** Runs events until none is left. For tests that drive time from their own thread. */
    public void runUntilIdle() {
        while (runNext()) {
            // keep going
        }
    }

    /** Blocks until an event is scheduled or {@code timeoutMillis} pass. */
    void awaitEvent(long timeoutMillis) throws InterruptedException {
        synchronized (lock) {
            if (queue.isEmpty()) {
                lock.wait(timeoutMillis);
            }
        }
    }
}
