package io.tabletop.connector.kudu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How {@link KuduCli} runs processes, with a shell script in the kudu binary's place (what is tested is the
 * process handling, not Kudu: the real CLI is tested against real clusters elsewhere).
 */
class KuduCliTest {
    @TempDir
    Path dir;

    private KuduCli cli(String script) throws Exception {
        Path bin = dir.resolve("bin");
        Files.createDirectories(bin);
        Path kudu = bin.resolve("kudu");
        Files.writeString(kudu, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(kudu, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new KuduCli(KuduBinary.at(kudu), "127.0.0.1:7051");
    }

    @Test
    void aBackgroundCallRunsTenStepsNicerAndStillReportsTheKuduArguments() throws Exception {
        KuduCli cli = cli("nice"); // prints the niceness it runs at
        assertTrue(Files.isExecutable(Path.of("/usr/bin/nice")), "this test needs /usr/bin/nice (coreutils)");
        KuduCli.Result fg = cli.run(10_000, "table", "scan", "@MASTERS", "t", "--row_count_only");
        KuduCli.Result bg = cli.runInBackground(10_000, "table", "scan", "@MASTERS", "t", "--row_count_only");
        int base = Integer.parseInt(fg.out().strip());
        assertEquals(Math.min(base + 10, 19), Integer.parseInt(bg.out().strip()), "the count runs at a lower priority");
        assertEquals(List.of("table", "scan", "127.0.0.1:7051", "t", "--row_count_only"), bg.args(), "what ran, as the log and errors name it");
        assertEquals(fg.args(), bg.args());
    }

    @Test
    void aFailedBackgroundCallIsTheCliError() throws Exception {
        KuduCli cli = cli("echo 'Not found: the table does not exist: t' >&2; exit 1");
        var e = org.junit.jupiter.api.Assertions.assertThrows(io.tabletop.connector.ConnectorException.class,
                () -> cli.checkInBackground(10_000, "count rows of t", "table", "scan", "@MASTERS", "t", "--row_count_only"));
        assertEquals("kudu: count rows of t failed: Not found: the table does not exist: t", e.getMessage());
    }

    /**
     * Every call's output is read by threads of its own: with the common pool's few threads (cores less one),
     * calls at once queued their readers behind each other, and a process whose stderr filled its pipe while
     * its reader waited could not exit.
     */
    @Test
    void manyCallsAtOnceThatFillBothPipesAllEndWithTheirWholeOutput() throws Exception {
        KuduCli cli = cli("head -c 200000 /dev/zero | tr '\\0' e >&2; head -c 200000 /dev/zero | tr '\\0' o");
        int calls = 4 * Runtime.getRuntime().availableProcessors() + 4;
        ExecutorService callers = Executors.newFixedThreadPool(calls);
        try {
            List<CompletableFuture<KuduCli.Result>> all = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                all.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return cli.run(60_000, "cluster", "ksck", "@MASTERS");
                    } catch (io.tabletop.connector.ConnectorException e) {
                        throw new IllegalStateException(e);
                    }
                }, callers));
            }
            for (CompletableFuture<KuduCli.Result> f : all) {
                KuduCli.Result r = f.get(90, TimeUnit.SECONDS);
                assertEquals(0, r.rc());
                assertEquals(200_000, r.out().length());
                assertEquals(200_000, r.err().length());
                assertTrue(r.out().chars().allMatch(c -> c == 'o') && r.err().chars().allMatch(c -> c == 'e'));
            }
        } finally {
            callers.shutdownNow();
        }
    }
}
