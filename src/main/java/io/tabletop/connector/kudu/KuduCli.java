package io.tabletop.connector.kudu;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs the {@code kudu} CLI. rc 0 is success; otherwise the error is the {@code Status: message} line
 * the CLI writes to stderr (glog lines are skipped). Every call is logged with its arguments.
 * Thread-safe.
 */
public final class KuduCli {
    private static final Logger LOG = Logger.getLogger(KuduCli.class.getName());

    /**
     * Threads for what blocks on a process: reading its output until it closes it, and waiting for a call
     * ({@link #blocking}). A thread each: the common pool has as many threads as cores less one, so on four
     * cores five moves' calls and readers queued behind each other, and a process whose stderr filled its
     * pipe while its reader waited in that queue could not exit before its timeout.
     */
    private static final java.util.concurrent.ExecutorService BLOCKING = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "tabletop-kudu-cli");
        t.setDaemon(true);
        return t;
    });

    /** Where to run a task that blocks on a CLI process (one thread each, made as needed). */
    static java.util.concurrent.Executor blocking() {
        return BLOCKING;
    }

    /** {@code nice}, where the system has it at its usual place; null elsewhere. */
    private static final String NICE = java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/nice")) ? "/usr/bin/nice" : null;

    private final KuduBinary binary;
    private volatile String masters;
    /** Every master of the cluster, for the tools that check the list is complete ("@ALL_MASTERS"). */
    private final String allMasters;

    public KuduCli(KuduBinary binary, String masters) {
        this.binary = binary;
        this.allMasters = masters;
        this.masters = masters;
    }

    /** What one call returned. */
    public record Result(int rc, String out, String err, List<String> args) {
        public boolean ok() {
            return rc == 0;
        }

        /**
         * The CLI's own error line, e.g. "Illegal state: tablet ...: replica ... is already present"; a
         * missing or expired Kerberos ticket is said as what to do.
         */
        public String error() {
            String e = rawError();
            if (e.contains("does not have Kerberos credentials available") || e.contains("No Kerberos credentials available")) {
                return "no Kerberos ticket for the cluster (KRB5CCNAME, or the default ticket cache, holds none): run kinit";
            }
            if (e.contains("Ticket expired") || e.contains("ticket expired")) {
                return "the Kerberos ticket has expired: run kinit";
            }
            return e;
        }

        private String rawError() {
            String last = null;
            for (String line : err.split("\n")) {
                String t = line.strip();
                if (t.isEmpty() || t.matches("^[IWEF]\\d{8} .*") || t.startsWith("Metrics:") || t.startsWith("*** ")
                        || t.startsWith("@ ") || t.matches("^\\d{4} \\d\\d:.*")) {
                    continue;
                }
                last = t;
                if (t.matches("^[A-Z][A-Za-z ]+: .*")) {
                    return t;
                }
            }
            if (last != null) {
                return last;
            }
            return rc > 128 ? "the kudu CLI died with signal " + (rc - 128) : "exit code " + rc;
        }
    }

    public String masters() {
        return masters;
    }

    /**
     * The masters "@MASTERS" stands for from now on: Kudu's tools check every master they are given (a
     * per-move ksck fails with "1 of 3 had errors" while one is down), so a master that is down is left
     * out while a majority answers.
     */
    public void useMasters(String masters) {
        this.masters = masters;
    }

    /**
     * Runs {@code kudu ARGS...}, where "@MASTERS" in ARGS is replaced by the masters that answer and
     * "@ALL_MASTERS" by all of them.
     */
    public Result run(long timeoutMillis, String... args) throws ConnectorException {
        return run(timeoutMillis, null, args);
    }

    /** As {@link #run(long, String...)}; {@code started} receives the process (to kill it in tests). */
    public Result run(long timeoutMillis, Consumer<Process> started, String... args) throws ConnectorException {
        return run(timeoutMillis, started, false, args);
    }

    /**
     * As {@link #run(long, String...)}, at a lower CPU priority ({@code nice}) where the system has it: for
     * work that may go on beside the run's own steps (counting rows), which should not slow them.
     */
    public Result runInBackground(long timeoutMillis, String... args) throws ConnectorException {
        return run(timeoutMillis, null, NICE != null, args);
    }

    private Result run(long timeoutMillis, Consumer<Process> started, boolean nice, String... args) throws ConnectorException {
        List<String> cmd = command(args);
        String op = operation(args);
        List<String> launched = cmd;
        if (nice) {
            launched = new ArrayList<>(List.of(NICE, "-n", "10"));
            launched.addAll(cmd);
        }
        ProcessBuilder pb = processBuilder(launched);
        long t0 = System.nanoTime();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new ConnectorException(Engine.KUDU, op, "cannot run " + binary.cli() + ": " + e.getMessage(), false, e);
        }
        if (started != null) {
            started.accept(p);
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()), BLOCKING);
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()), BLOCKING);
        try {
            if (!p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new ConnectorException(Engine.KUDU, op, "no answer within " + timeoutMillis / 1000 + " s", true, null);
            }
            Result r = new Result(p.exitValue(), out.get(), err.get(), List.copyOf(cmd.subList(1, cmd.size())));
            LOG.log(r.ok() ? Level.FINE : Level.INFO, () -> "kudu " + String.join(" ", r.args()) + " -> rc " + r.rc()
                    + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms" + (r.ok() ? "" : ": " + r.error()));
            return r;
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new ConnectorException(Engine.KUDU, op, "interrupted", true, e);
        } catch (ExecutionException e) {
            throw new ConnectorException(Engine.KUDU, op, "cannot read the CLI's output: " + e.getCause(), true, e);
        }
    }

    /**
     * Runs a long command and hands each line of its output (stdout and stderr, glog prefixes removed) to
     * {@code lines} as it comes. Returns when the command exits.
     */
    public Result stream(long timeoutMillis, Consumer<String> lines, String... args) throws ConnectorException {
        List<String> cmd = command(args);
        String op = operation(args);
        ProcessBuilder pb = processBuilder(cmd);
        pb.redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new ConnectorException(Engine.KUDU, op, "cannot run " + binary.cli() + ": " + e.getMessage(), false, e);
        }
        StringBuilder all = new StringBuilder();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (var r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (all) {
                        all.append(line).append('\n');
                    }
                    String t = line.replaceFirst("^[IWEF]\\d{8} [0-9:.]+ +\\d+ [^\\]]+\\] ", "").strip();
                    if (!t.isEmpty()) {
                        lines.accept(t);
                    }
                }
            } catch (IOException e) {
                LOG.log(Level.FINE, "reading " + op, e);
            }
        }, BLOCKING);
        try {
            if (!p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new ConnectorException(Engine.KUDU, op, "no answer within " + timeoutMillis / 1000 + " s", true, null);
            }
            reader.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new ConnectorException(Engine.KUDU, op, "interrupted", true, e);
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(Level.FINE, "output of " + op, e);
        }
        String text;
        synchronized (all) {
            text = all.toString();
        }
        return new Result(p.exitValue(), text, text, List.copyOf(cmd.subList(1, cmd.size())));
    }

    private List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.cli().toString());
        for (String a : args) {
            cmd.add(a.equals("@MASTERS") ? masters : a.equals("@ALL_MASTERS") ? allMasters : a);
        }
        return cmd;
    }

    /** "cluster ksck", "tablet change_config": how an operation is named in errors. */
    private static String operation(String... args) {
        return String.join(" ", List.of(args).subList(0, Math.min(args.length, 2)));
    }

    private ProcessBuilder processBuilder(List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        binary.applyEnvironment(pb.environment());
        return pb;
    }

    /** Runs and throws the CLI's error when rc is not 0. */
    public String check(long timeoutMillis, String operation, String... args) throws ConnectorException {
        return checked(run(timeoutMillis, args), operation);
    }

    /** As {@link #check}, at a lower CPU priority ({@link #runInBackground}). */
    public String checkInBackground(long timeoutMillis, String operation, String... args) throws ConnectorException {
        return checked(runInBackground(timeoutMillis, args), operation);
    }

    private static String checked(Result r, String operation) throws ConnectorException {
        if (!r.ok()) {
            throw new ConnectorException(Engine.KUDU, operation, r.error(), isTransient(r.error()), null);
        }
        return r.out();
    }

    static boolean isTransient(String error) {
        return error.startsWith("Network error") || error.startsWith("Timed out") || error.startsWith("Service unavailable")
                || error.startsWith("Remote error: Service unavailable") || error.contains("signal");
    }

    private static String read(InputStream in) {
        try (in) {
            return io.tabletop.connector.Bounded.text(in);
        } catch (IOException e) {
            return "";
        }
    }
}
