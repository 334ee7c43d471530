package io.tabletop.service;

import io.tabletop.store.PrivateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.util.logging.FileHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Sends all detail (stack traces included) to the log file, never to the operator's screen. People see
 * one-line messages; the log keeps the rest. Idempotent.
 */
public final class LogSetup {
    private static boolean done;

    private LogSetup() {
    }

    /** Each log file grows to 5 MB; three are kept (15 MB at most): {@code tabletop.0.log} is the newest. */
    static final int LIMIT_BYTES = 5_000_000;
    static final int GENERATIONS = 3;

    /**
     * A size-limited, rotating log in {@code dir}: {@code tabletop.0.log} is written, and when it reaches
     * {@code limit} bytes it becomes {@code tabletop.1.log} and so on; {@code count} files are kept.
     */
    static FileHandler rotating(java.nio.file.Path dir, int limit, int count) throws IOException {
        PrivateFiles.createDirectories(dir);
        FileHandler file = new FileHandler(dir.resolve("tabletop.%g.log").toString(), limit, count, true);
        for (int g = 0; g < count; g++) {
            PrivateFiles.restrict(dir.resolve("tabletop." + g + ".log")); // a generation rotated in later lies in a 0700 directory
        }
        file.setFormatter(new SimpleFormatter());
        file.setLevel(Level.ALL);
        file.setErrorManager(new QuietErrors(dir.resolve("tabletop.0.log"), System.err));
        return file;
    }

    /**
     * What the log file's handler does when it cannot write (a full disk): one line on the error stream, the
     * first time only, naming the file and the cause; never the JDK's default stack trace.
     */
    static final class QuietErrors extends java.util.logging.ErrorManager {
        private final java.nio.file.Path file;
        private final java.io.PrintStream err;
        private final java.util.concurrent.atomic.AtomicBoolean told = new java.util.concurrent.atomic.AtomicBoolean();

        QuietErrors(java.nio.file.Path file, java.io.PrintStream err) {
            this.file = file;
            this.err = err;
        }

        @Override
        public void error(String msg, Exception ex, int code) {
            if (told.compareAndSet(false, true)) {
                String why = ex == null ? msg : ex instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                        : ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
                err.println("tabletop: cannot write the log " + file + ": " + why + " (further log errors are not shown)");
                err.flush();
            }
        }
    }

    public static synchronized void init() {
        if (done) {
            return;
        }
        done = true;
        System.setProperty("SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        try {
            root.addHandler(rotating(AppPaths.logFile().getParent(), LIMIT_BYTES, GENERATIONS));
        } catch (IOException e) {
            // No log file: fall back to nothing rather than to stack traces on screen.
            root.addHandler(new Handler() {
                @Override
                public void publish(LogRecord r) {
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            });
        }
        root.setLevel(Level.INFO);
        Logger.getLogger("io.tabletop").setLevel(Level.FINE);
    }
}
