package io.tabletop.cli;

import io.tabletop.store.RunJournal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Watching an {@code apply} that runs in a child JVM: its run id from its output, its moves from its journal. */
public final class ChildRun {
    private ChildRun() {
    }

    /**
     * Starts {@code io.tabletop.Main ARGS} in a child JVM with this test's class path and Tabletop home, its
     * output (both streams) to {@code out}. SIGINT is put back to its default first where perl (Debian's
     * essential perl-base) is there: a Maven started in the background by a non-interactive shell passes
     * SIGINT on ignored, and the JVM would then never see a Ctrl-C.
     */
    public static Process start(Path out, String... args) throws java.io.IOException {
        return start(out, io.tabletop.service.AppPaths.home(), java.util.List.of(), args);
    }

    /**
     * As {@link #start(Path, String...)}, with Tabletop's home in {@code home} (another operator's machine has a
     * data directory of its own) and {@code jvmOptions} ("-Dname=value") before the main class.
     */
    public static Process start(Path out, Path home, java.util.List<String> jvmOptions, String... args) throws java.io.IOException {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dtabletop.home=" + home.toAbsolutePath()));
        if (System.getProperty("tabletop.locks") != null) {
            cmd.add("-Dtabletop.locks=" + System.getProperty("tabletop.locks")); // this machine's locks, as the test's
        }
        cmd.addAll(jvmOptions);
        cmd.add("io.tabletop.Main");
        cmd.addAll(java.util.List.of(args));
        if (Files.isExecutable(Path.of("/usr/bin/perl"))) {
            cmd.addAll(0, java.util.List.of("/usr/bin/perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\""));
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    /** The run id {@code apply} prints ("Run ID (journal …"), looking at its output ten times a second. */
    public static String waitForRunId(Path out, Process child) throws Exception {
        Pattern p = Pattern.compile("Run (\\S+) \\(journal");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = p.matcher(Files.exists(out) ? Files.readString(out) : "");
            if (m.find()) {
                return m.group(1);
            }
            assertTrue(child.isAlive(), "the apply process ended: " + Files.readString(out));
            child.waitFor(100, TimeUnit.MILLISECONDS); // look at its output ten times a second
        }
        throw new AssertionError("no run id printed: " + Files.readString(out));
    }

    /** Moves the run's journal records as succeeded. */
    public static int movesDone(Path runDir) throws Exception {
        if (!Files.exists(runDir.resolve("journal.jsonl"))) {
            return 0;
        }
        return (int) RunJournal.read(runDir).steps().stream().filter(s -> s.kind().equals("MOVE_REPLICA") && s.succeeded()).count();
    }
}
