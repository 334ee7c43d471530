package io.tabletop.connector.openmldb;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.cli.ChildRun;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Runs;
import io.tabletop.store.RunJournal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code apply} on OpenMLDB in a child JVM, killed with SIGKILL after two moves while auto_failover is off
 * for its run; the resume in this process finishes the scale-in and puts auto_failover back, as the
 * journal said it must.
 */
class OpenMldbKilledRunTest {
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
    void aKilledRunLeavesAutoFailoverOffAndTheResumePutsItBack() throws Exception {
        try (OpenMldbCluster cl = new OpenMldbCluster("sdefault", 1, 150)) { // slow ops: the kill lands mid-run
            for (int n = 1; n <= 3; n++) {
                cl.ns.addTablet(n);
            }
            cl.ns.addTable("demo", "t1", 9, 2, 1000);
            String gone = "127.0.2.3:10921";
            Path out = dir.resolve("apply.out");
            child = ChildRun.start(out, "apply", "--connect", cl.spec(), "--remove", gone, "--yes");
            String runId = ChildRun.waitForRunId(out, child);
            Path runDir = AppPaths.home().resolve("runs").resolve(runId);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (ChildRun.movesDone(runDir) < 2) {
                assertTrue(child.isAlive(), "apply ended early: " + Files.readString(out));
                assertTrue(System.nanoTime() < deadline, "no progress: " + Files.readString(out));
                child.waitFor(100, TimeUnit.MILLISECONDS); // look at the journal ten times a second
            }
            assertFalse(cl.ns.autoFailover(), "off while the run migrates");
            child.destroyForcibly();
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            assertFalse(cl.ns.autoFailover(), "the killed run could not put it back");
            assertEquals(java.util.Map.of("auto_failover", "true"), RunJournal.unrestoredSettings(runDir));

            // The nameserver finishes the op the killed process started; the resume waits for that (health blocks meanwhile).
            assertTrue(cl.ns.awaitOpsIdle(60_000));
            Runs runs = new Runs();
            try (ClusterConnector c = cl.open(cl.spec(), null)) {
                Runs.RunInfo info = runs.find(runId);
                assertEquals("INTERRUPTED", info.state());
                Runs.Resume resume = runs.prepareResume(info, c);
                assertNotNull(resume.plan(), resume.checks().toString());
                Runs.Run run = runs.resume(resume, c, ExecutorOptions.defaults(1), cl.operator(), null);
                RunResult r = run.done().get(2, TimeUnit.MINUTES);
                assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
            }
            assertTrue(cl.ns.autoFailover(), "the resume put auto_failover back");
            assertEquals(java.util.Map.of(), RunJournal.unrestoredSettings(runDir));
            assertEquals(0, cl.ns.loads().get(gone)[0]);
        }
    }

    /**
     * Killed while an op it started is stuck kDoing, then resumed at once: the resume recognises the op from the
     * journal's step in flight, waits for it (it refused with "op(s) running" before), and finishes without
     * sending that partition's Migrate again; every partition ends at its replica count with one alive leader
     * and no stale row, and auto_failover is back on.
     */
    @Test
    void aKillWhileAnOpRunsThenAnImmediateResumeFollowsItAndFinishes() throws Exception {
        try (OpenMldbCluster cl = new OpenMldbCluster("sdefault", 1, 20)) {
            for (int n = 1; n <= 3; n++) {
                cl.ns.addTablet(n);
            }
            cl.ns.addTable("demo", "t1", 9, 2, 1000);
            String gone = "127.0.2.3:10921";
            int copies = cl.ns.loads().get(gone)[0];
            cl.ns.holdAtTask("kSendSnapshot"); // the first Migrate stays kDoing until released
            Path out = dir.resolve("apply.out");
            child = ChildRun.start(out, "apply", "--connect", cl.spec(), "--remove", gone, "--yes");
            String runId = ChildRun.waitForRunId(out, child);
            assertTrue(cl.ns.await(cl.ns::held, 120_000), "a Migrate is stuck kDoing: " + Files.readString(out));
            child.destroyForcibly();
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            assertFalse(cl.ns.autoFailover(), "the killed run could not put it back");

            Runs runs = new Runs();
            try (ClusterConnector c = cl.open(cl.spec(), null)) {
                Runs.RunInfo info = runs.find(runId);
                assertEquals("INTERRUPTED", info.state());
                java.util.concurrent.CountDownLatch following = new java.util.concurrent.CountDownLatch(1);
                java.util.concurrent.CompletableFuture<Runs.Resume> preparing = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return runs.prepareResume(info, c, (f, m) -> {
                            if (m.contains("left running by the stopped run")) {
                                following.countDown();
                            }
                        });
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertTrue(following.await(60, TimeUnit.SECONDS), "the resume follows the op the killed run left running");
                assertFalse(preparing.isDone(), "and plans nothing while it runs");
                cl.ns.release();
                Runs.Resume resume = preparing.get(2, TimeUnit.MINUTES);
                assertNotNull(resume.plan(), resume.checks().toString());
                assertTrue(resume.checks().stream().anyMatch(k -> k.name().equals("Left running") && k.message().contains("kMigrateOP")),
                        resume.checks().toString());
                Runs.Run run = runs.resume(resume, c, ExecutorOptions.defaults(1), cl.operator(), null);
                RunResult r = run.done().get(3, TimeUnit.MINUTES);
                assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
                for (var p : c.snapshot().partitions()) {
                    assertEquals(2, p.voterCount(), p.toString());
                    assertTrue(p.leader().isPresent(), p.toString());
                }
            }
            assertEquals(copies, cl.ns.mutatingRequests().get("Migrate"), "one Migrate per copy: the held one was not sent again");
            assertEquals(0, cl.ns.staleRows());
            assertEquals(0, cl.ns.loads().get(gone)[0]);
            assertTrue(cl.ns.autoFailover(), "the resume put auto_failover back");
        }
    }
}
