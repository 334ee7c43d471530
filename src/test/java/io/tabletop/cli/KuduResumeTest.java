package io.tabletop.cli;

import io.tabletop.Main;
import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.kudu.KuduConnector;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Server;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Connections;
import io.tabletop.store.RunJournal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.tabletop.cli.TabletopCliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A drain on a real Kudu cluster whose command-line process is killed (SIGKILL, with its kudu CLI child)
 * halfway; {@code tabletop resume} in another process finishes it from the journal: every replica of the
 * tserver moved exactly once, ksck OK, rows unchanged.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduResumeTest {
    private static final String NAME = "resume-test";

    @TempDir
    Path dir;

    private Process child;

    @AfterEach
    void cleanUp() throws Exception {
        if (child != null && child.isAlive()) {
            child.descendants().forEach(ProcessHandle::destroyForcibly);
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        LocalKuduCliTest.stopLocalCluster(NAME);
    }

    @Test
    void aDrainWhoseProcessIsKilledIsFinishedByResume() throws Exception {
        var start = run("local-kudu", "start", "--name", NAME, "--tservers", "5", "--tables", "24,20,16", "--rows", "10000");
        assertEquals(0, start.code(), start.err());
        String spec = start.out().strip();
        String masters = spec.substring(0, spec.indexOf('?'));
        ClusterSnapshot before;
        Map<String, Long> rows;
        try (ClusterConnector c = new Connections(Main.registry()).open(masters)) {
            before = c.snapshot();
            rows = c.rowCounts().orElseThrow();
        }
        Server victim = before.servers().get(1);
        int onVictim = before.loads().get(victim.id()).replicas();

        // The first process: apply, killed once a few moves are done.
        Path out = dir.resolve("apply.out");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Dtabletop.home=" + AppPaths.home().toAbsolutePath(),
                "io.tabletop.Main", "apply", "--connect", masters, "--remove", victim.address(), "--yes", "--stop-local"));
        child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        String runId = ChildRun.waitForRunId(out, child);
        Path runDir = AppPaths.home().resolve("runs").resolve(runId);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (ChildRun.movesDone(runDir) < 6) {
            assertTrue(child.isAlive(), "the apply process ended early: " + Files.readString(out));
            assertTrue(System.nanoTime() < deadline, "no progress: " + Files.readString(out));
            child.waitFor(200, TimeUnit.MILLISECONDS); // look at the journal five times a second
        }
        List<ProcessHandle> kids = child.descendants().toList();
        child.destroyForcibly();
        kids.forEach(ProcessHandle::destroyForcibly);
        assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        int movedByFirst = ChildRun.movesDone(runDir);
        assertTrue(movedByFirst < onVictim, "killed halfway: " + movedByFirst + " of " + onVictim);

        // A new process lists it as interrupted and resumes it.
        var list = run("runs");
        assertTrue(list.out().lines().anyMatch(l -> l.startsWith(runId) && l.contains("INTERRUPTED")), list.out());
        var resume = run("resume", runId, "--yes");
        assertEquals(0, resume.code(), resume.out() + resume.err());
        assertTrue(resume.out().contains("PASS  Journal: "), resume.out());
        assertTrue(resume.out().contains("PASS  Removed servers empty"), resume.out());
        assertTrue(resume.out().contains("PASS  Cluster health: ksck OK"), resume.out());

        RunJournal.RunRecord rec = RunJournal.read(runDir);
        assertEquals(2, rec.attempts());
        assertEquals("SUCCEEDED", rec.endState());
        // Every replica of the victim moved exactly once, across both processes.
        Set<String> moved = new HashSet<>();
        for (RunJournal.StepRecord s : rec.steps()) {
            if (s.kind().equals("MOVE_REPLICA") && s.succeeded()) {
                assertEquals(victim.id().value(), s.from());
                assertTrue(moved.add(s.partition()), "tablet " + s.partition() + " moved twice");
            }
        }
        try (ClusterConnector c = new Connections(Main.registry()).open(masters)) {
            ClusterSnapshot after = c.snapshot();
            assertTrue(after.server(victim.id()).isEmpty(), "the tserver is unregistered");
            assertTrue(after.partitions().stream().noneMatch(p -> p.isOn(victim.id())));
            long fromVictim = before.partitions().stream().filter(p -> p.isOn(victim.id())).count();
            assertTrue(moved.size() <= fromVictim && moved.size() >= fromVictim - rec.unfinished().size(),
                    moved.size() + " journaled moves for " + fromVictim + " replicas (a move cut by the kill may have finished unrecorded)");
            assertEquals(rows, c.rowCounts().orElseThrow(), "no row lost");
        }
    }
}
