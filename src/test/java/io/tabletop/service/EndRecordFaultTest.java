package io.tabletop.service;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ServerId;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import io.tabletop.testing.FaultyStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The records a run ends with are records like any other: one that cannot be written is the run's fault (issue 31). */
class EndRecordFaultTest {
    private static final ExecutorOptions FAST = new ExecutorOptions(5, 3, Duration.ZERO);

    @TempDir
    Path dir;

    @Test
    void aJournalEndThatCannotBeWrittenIsTheRunsFault() throws Exception {
        FaultyStorage disk = new FaultyStorage();
        disk.refuseWritesContaining("\"type\":\"end\"");
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Runs.Run run = runOn(sandbox, disk);
            RunResult r = run.done().get(30, TimeUnit.SECONDS);
            assertEquals(RunState.SUCCEEDED, r.state(), "every step ran");
            assertNotNull(run.recordFault(), "the end that could not be written is the run's fault");
            assertTrue(run.recordFault().contains("journal.jsonl") && run.recordFault().contains("No space left on device"), run.recordFault());
        }
    }

    @Test
    void anAuditEndThatCannotBeWrittenIsTheRunsFault() throws Exception {
        FaultyStorage disk = new FaultyStorage();
        disk.refuseWritesContaining("run ended");
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Runs.Run run = runOn(sandbox, disk);
            run.done().get(30, TimeUnit.SECONDS);
            assertNotNull(run.recordFault());
            assertTrue(run.recordFault().contains(dir.resolve("audit.jsonl").toString()), run.recordFault());
        }
    }

    private Runs.Run runOn(SandboxConnector sandbox, FaultyStorage disk) throws Exception {
        Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(ServerId.of("ts-2")), sandbox.capabilities());
        Runs runs = new Runs(dir.resolve("runs"), new AuditLog(dir.resolve("audit.jsonl"), disk), disk);
        return runs.start(plan, sandbox, "sandbox", false, FAST, null, null);
    }
}
