package io.tabletop.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.ServerId;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunJournalTest {
    @TempDir
    Path dir;

    private Plan plan() throws Exception {
        ClusterSnapshot c = SandboxFixtures.kuduBaseline();
        return new Planner().plan(c, RemoveServers.of(ServerId.of("ts-2")), EngineCapabilities.kudu());
    }

    private RunJournal.Header header(String id, Plan p) {
        return new RunJournal.Header(id, Instant.parse("2026-11-22T07:00:00Z"), "dba", 4242, "kudu://127.0.0.1:7051",
                p.before().cluster(), "kudu", PlanJson.goalToTree(p.goal()), true);
    }

    @Test
    void aJournalReadsBackWhatWasWrittenAndSurvivesATornLastLine() throws Exception {
        Plan p = plan();
        try (RunJournal j = RunJournal.create(dir, header("r1", p), p)) {
            j.step(p.steps().get(0), "RUNNING", "");
            j.step(p.steps().get(0), "SUCCEEDED", "");
            j.step(p.steps().get(1), "RUNNING", "");
        }
        // The process died while writing the next line.
        Files.writeString(dir.resolve("r1/journal.jsonl"), "{\"type\":\"step\",\"attem", StandardOpenOption.APPEND);
        RunJournal.RunRecord r = RunJournal.read(dir.resolve("r1"));
        assertEquals("r1", r.runId());
        assertEquals("dba", r.user());
        assertEquals(1, r.attempts());
        assertEquals(1, r.succeeded());
        assertEquals(1, r.unfinished().size(), "step 2 started and never ended");
        assertEquals(p.steps().get(1).describe(), r.unfinished().get(0).describe());
        assertFalse(r.ended());
        assertTrue(r.stopLocal());
        assertEquals(p.goal(), PlanJson.readGoal(r.goal(), "test"), "the goal round-trips");
        assertEquals("remove ts-2", r.goalSummary());
        assertTrue(Files.exists(dir.resolve("r1/plan-0.json")));
        assertEquals(p.before().partitions().size(), RunJournal.snapshotBefore(dir.resolve("r1")).partitions().size());
    }

    @Test
    void aResumeIsASecondAttemptInTheSameJournal() throws Exception {
        Plan p = plan();
        try (RunJournal j = RunJournal.create(dir, header("r2", p), p)) {
            j.step(p.steps().get(0), "RUNNING", "");
        }
        try (RunJournal j = RunJournal.reopen(dir.resolve("r2"))) {
            j.attempt(p, "resumed");
            j.step(p.steps().get(0), "SUCCEEDED", "");
            j.end("SUCCEEDED", "done");
        }
        RunJournal.RunRecord r = RunJournal.read(dir.resolve("r2"));
        assertEquals(2, r.attempts());
        assertEquals("SUCCEEDED", r.endState());
        assertEquals(1, r.unfinished().size(), "attempt 0's step 1 stays unfinished in the record");
        assertTrue(Files.exists(dir.resolve("r2/plan-1.json")));
        List<String> problems = new ArrayList<>();
        Files.createDirectories(dir.resolve("junk"));
        Files.writeString(dir.resolve("junk/journal.jsonl"), "not json\n{}\n");
        List<RunJournal.RunRecord> all = RunJournal.list(dir, problems);
        assertEquals(2, all.size(), "the unreadable run is listed, not skipped");
        RunJournal.RunRecord junk = all.stream().filter(x -> x.runId().equals("junk")).findFirst().orElseThrow();
        assertEquals(1, junk.damage().line());
        assertTrue(junk.damage().reason().startsWith("not JSON"), junk.damage().reason());
        assertEquals(1, problems.size(), "the unreadable run is named, not fatal: " + problems);
    }

    @Test
    void theAuditChainShowsAnEditARemovalAndAReordering() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        AuditLog log = new AuditLog(file);
        for (int i = 0; i < 5; i++) {
            log.append(new AuditLog.Entry(Instant.now(), "dba", "c1", "r1", "step " + i, "step started",
                    "kudu tablet change_config move_replica 127.0.0.1:7051 t" + i + " a b"));
        }
        assertEquals(Optional.empty(), AuditLog.verify(file));
        assertEquals(5, AuditLog.count(file));
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertTrue(lines.get(0).contains("\"prev\":\"" + "0".repeat(64) + "\""));

        List<String> edited = new ArrayList<>(lines);
        edited.set(2, edited.get(2).replace("t2 a b", "t2 a c"));
        Files.write(file, edited);
        assertEquals(Optional.of("line 3: its content does not match its hash (edited), in run r1"), AuditLog.verify(file));

        List<String> removed = new ArrayList<>(lines);
        removed.remove(1);
        Files.write(file, removed);
        assertTrue(AuditLog.verify(file).orElseThrow().startsWith("line 2: does not follow"), AuditLog.verify(file).toString());

        List<String> swapped = new ArrayList<>(lines);
        Collections.swap(swapped, 3, 4);
        Files.write(file, swapped);
        assertTrue(AuditLog.verify(file).orElseThrow().startsWith("line 4"), AuditLog.verify(file).toString());

        // Appending continues the chain from the last record.
        Files.write(file, lines);
        log.append(new AuditLog.Entry(Instant.now(), "dba", "c1", "r1", null, "run ended", null));
        assertEquals(Optional.empty(), AuditLog.verify(file));
        assertNull(new ObjectMapper().readTree(Files.readAllLines(file).get(5)).get("command"), "no command for a run-level record");
    }

    @Test
    void aJournalThatCannotBeCreatedNamesTheFile() throws Exception {
        Plan p = plan();
        Files.createDirectories(dir.resolve("r9").resolve("snapshot-before.json").resolve("in-the-way"));
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> RunJournal.create(dir, header("r9", p), p));
        assertTrue(e.getMessage().startsWith("cannot write " + dir.resolve("r9").resolve("snapshot-before.json") + ": "), e.getMessage());
    }
}
