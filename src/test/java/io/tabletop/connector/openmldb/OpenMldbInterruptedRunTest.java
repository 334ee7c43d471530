package io.tabletop.connector.openmldb;

import io.tabletop.cli.ChildRun;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Runs;
import io.tabletop.store.RunJournal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code apply} on OpenMLDB in a child JVM, interrupted with SIGINT (Ctrl-C) mid-run while auto_failover is
 * off for its run: before the process exits it puts auto_failover back, says so in one line, journals it,
 * and leaves the run resumable.
 */
class OpenMldbInterruptedRunTest {
    @TempDir
    Path dir;

    private Process child;

    @AfterEach
    void cleanUp() throws Exception {
        if (child != null && child.isAlive()) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void ctrlCOfApplyPutsAutoFailoverBackBeforeTheProcessExits() throws Exception {
        try (OpenMldbCluster cl = new OpenMldbCluster("sdefault", 1, 150)) { // slow ops: the interrupt lands mid-run
            for (int n = 1; n <= 3; n++) {
                cl.ns.addTablet(n);
            }
            cl.ns.addTable("demo", "t1", 9, 2, 1000);
            Path out = dir.resolve("apply.out");
            child = ChildRun.start(out, "apply", "--connect", cl.spec(), "--remove", "127.0.2.3:10921", "--yes");
            String runId = ChildRun.waitForRunId(out, child);
            Path runDir = AppPaths.home().resolve("runs").resolve(runId);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (ChildRun.movesDone(runDir) < 1) {
                assertTrue(child.isAlive(), "apply ended early: " + Files.readString(out));
                assertTrue(System.nanoTime() < deadline, "no progress: " + Files.readString(out));
                child.waitFor(100, TimeUnit.MILLISECONDS); // look at the journal ten times a second
            }
            assertFalse(cl.ns.autoFailover(), "off while the run migrates");
            assertEquals(Map.of("auto_failover", "true"), RunJournal.unrestoredSettings(runDir), "journaled before the run changed it");

            String ignored = Files.readAllLines(Path.of("/proc", Long.toString(child.pid()), "status")).stream()
                    .filter(l -> l.startsWith("SigIgn:")).findFirst().orElse("SigIgn: 0").substring(7).strip();
            assertEquals(0, Long.parseLong(ignored, 16) & 2, "the child must not ignore SIGINT (SigIgn " + ignored + ")");
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(child.pid())).redirectErrorStream(true).start();
            assertTrue(kill.waitFor(10, TimeUnit.SECONDS), "kill ran");
            assertEquals(0, kill.exitValue(), new String(kill.getInputStream().readAllBytes()));
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the interrupted apply exits: " + Files.readString(out));

            String printed = Files.readString(out);
            assertTrue(cl.ns.autoFailover(), "auto_failover is back on: " + printed);
            assertTrue(printed.lines().anyMatch(l -> l.equals("Interrupted: the engine's settings are put back (auto_failover=true); "
                    + "the run stops here, continue it with: tabletop resume " + runId + " --yes")), printed);
            assertEquals(Map.of(), RunJournal.unrestoredSettings(runDir), "the restore is journaled: a resume does not do it again");
            assertTrue(RunJournal.read(runDir).events().stream().anyMatch(e -> e.startsWith("interrupted: ")), "the journal says why it stopped");
            assertEquals("INTERRUPTED", new Runs().find(runId).state(), "the run stays resumable");
        }
    }
}
