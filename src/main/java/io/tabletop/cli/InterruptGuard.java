package io.tabletop.cli;

import io.tabletop.service.Runs;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * While a command-line run goes on, Ctrl-C (SIGINT, or SIGTERM) stops it as an operator would: a JVM shutdown
 * hook asks the run to start nothing new and to put back the engine settings it changed (OpenMLDB's
 * {@code auto_failover}), bounded by {@link #BOUND}, then prints one line saying it did, or the command that
 * does. The run stays resumable. SIGKILL runs no hook: that is resume's to put right. Closing removes the hook.
 */
final class InterruptGuard implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(InterruptGuard.class.getName());
    /** How long the hook waits for the engine to take the settings back; the process is stopping. */
    static final Duration BOUND = Duration.ofSeconds(5);

    private final Thread hook;

    private InterruptGuard(Thread hook) {
        this.hook = hook;
    }

    /** Guards {@code run} until closed; {@code out} gets the one line. */
    static InterruptGuard install(Runs.Run run, PrintWriter out) {
        Thread hook = new Thread(() -> {
            String line = run.interrupted(BOUND);
            if (line != null) {
                synchronized (out) {
                    out.println(line);
                    out.flush();
                }
            }
        }, "tabletop-on-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        return new InterruptGuard(hook);
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            LOG.log(Level.FINE, "the process is already stopping: the hook runs", e);
        }
    }
}
