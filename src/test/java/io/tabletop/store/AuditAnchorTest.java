package io.tabletop.store;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ServerId;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.Runs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit log's tail cannot vanish unseen: its head file and every run's journal anchor its head, so a
 * truncation of one record or of several, a deletion, a reordering and an edit are each named; an intact
 * log passes.
 */
class AuditAnchorTest {
    @TempDir
    Path dir;
    private Path log;
    private Runs runs;
    private String lastRun;

    /** Two journaled runs on the sandbox: a removal, then a rebalance; each anchors the log at start and end. */
    @BeforeEach
    void twoRuns() throws Exception {
        log = dir.resolve("audit.jsonl");
        runs = new Runs(dir.resolve("runs"), new AuditLog(log));
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            for (String server : List.of("ts-2", "ts-4")) {
                Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(ServerId.of(server)), sandbox.capabilities());
                Runs.Run run = runs.start(plan, sandbox, "sandbox", false, new ExecutorOptions(5, 3, Duration.ZERO), null, null);
                assertEquals(RunState.SUCCEEDED, run.done().get(30, TimeUnit.SECONDS).state());
                lastRun = run.runId();
            }
        }
    }

    private List<String> lines() throws Exception {
        return new ArrayList<>(Files.readAllLines(log, StandardCharsets.UTF_8));
    }

    private void rewrite(List<String> lines) throws Exception {
        Files.writeString(log, String.join("\n", lines) + (lines.isEmpty() ? "" : "\n"), StandardCharsets.UTF_8);
    }

    @Test
    void anIntactLogPassesWithItsHeadAndEveryAnchor() throws Exception {
        AuditLog.Report r = runs.checkAudit();
        assertTrue(r.intact(), r.problems().toString());
        assertEquals(4, runs.auditAnchors(), "two runs, each anchored at start and end");
        assertEquals(lines().size(), r.records());
        assertEquals(r.records() + " record(s), hash chain intact, head file and 4 run anchor(s) agree", r.summary(4));
        AuditLog.Head head = AuditLog.readHead(AuditLog.headFile(log)).orElseThrow();
        assertEquals(r.records(), head.count(), "the head file counts every record");
    }

    @Test
    void cuttingOffTheLastRecordIsNamedWithTheRun() throws Exception {
        List<String> l = lines();
        rewrite(l.subList(0, l.size() - 1));
        AuditLog.Report r = runs.checkAudit();
        assertFalse(r.intact());
        assertTrue(r.problems().contains("the last 1 record(s) are gone: the head file counts " + l.size() + ", the log has " + (l.size() - 1)),
                r.problems().toString());
        assertTrue(r.problems().stream().anyMatch(p -> p.startsWith("the last 1 record(s) up to the end of run " + lastRun + " are gone")),
                r.problems().toString());
    }

    @Test
    void cuttingOffSeveralRecordsAndTheHeadFileWithThemIsStillSeenInTheJournals() throws Exception {
        List<String> l = lines();
        List<String> kept = l.subList(0, l.size() - 3);
        rewrite(kept);
        // whoever cut the log also rewrote the head file to match it
        String lastHash = new com.fasterxml.jackson.databind.ObjectMapper().readTree(kept.get(kept.size() - 1)).path("hash").asText();
        Files.writeString(AuditLog.headFile(log), "{\"count\":" + kept.size() + ",\"hash\":\"" + lastHash + "\"}\n");
        AuditLog.Report r = runs.checkAudit();
        assertFalse(r.intact());
        assertTrue(r.problems().stream().anyMatch(p -> p.startsWith("the last 3 record(s) up to the end of run " + lastRun + " are gone")),
                r.problems().toString());
        assertTrue(r.problems().stream().noneMatch(p -> p.contains("head file counts")), "the head file was made to agree: " + r.problems());
    }

    @Test
    void deletionReorderingAndEditingEachBreakTheChain() throws Exception {
        List<String> original = lines();
        List<String> deleted = new ArrayList<>(original);
        deleted.remove(3);
        rewrite(deleted);
        assertTrue(runs.checkAudit().problems().stream().anyMatch(p -> p.startsWith("the hash chain breaks at line 4: does not follow line 3")
                        && p.contains(", in run ")),
                runs.checkAudit().problems().toString());

        List<String> reordered = new ArrayList<>(original);
        Collections.swap(reordered, 2, 3);
        rewrite(reordered);
        assertTrue(runs.checkAudit().problems().stream().anyMatch(p -> p.startsWith("the hash chain breaks at line 3")),
                runs.checkAudit().problems().toString());

        List<String> edited = new ArrayList<>(original);
        edited.set(1, edited.get(1).replace("\"user\":\"", "\"user\":\"mallory-"));
        rewrite(edited);
        assertTrue(runs.checkAudit().problems().stream().anyMatch(p -> p.startsWith("the hash chain breaks at line 2: its content does not match its hash (edited), in run ")),
                runs.checkAudit().problems().toString());

        rewrite(original);
        assertTrue(runs.checkAudit().intact(), "put back, the log is whole again");
    }

    @Test
    void aMissingHeadFileIsAProblemAndTheNextAppendWritesItFromTheLog() throws Exception {
        long records = lines().size();
        Files.delete(AuditLog.headFile(log));
        assertTrue(runs.checkAudit().problems().stream().anyMatch(p -> p.startsWith("the head file audit.jsonl.head is missing")));
        AuditLog.Head h = new AuditLog(log).append(new AuditLog.Entry(java.time.Instant.now(), "u", "c", null, null, "a test record", null));
        assertEquals(records + 1, h.count(), "counted from the log when the head file is gone");
        assertTrue(runs.checkAudit().intact(), runs.checkAudit().problems().toString());
    }
}
