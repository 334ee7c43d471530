package io.tabletop.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.domain.ServerId;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import io.tabletop.store.PlanJson;
import io.tabletop.store.RunJournal;
import org.junit.jupiter.api.Test;
import io.tabletop.testing.OwnHome;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.tabletop.cli.TabletopCliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damaged and missing journals are named, never skipped, and "latest" is the newest by run sequence. Each
 * test has a data directory of its own: a damaged run must not leak into other tests' {@code --latest}.
 */
class DamagedRunsTest {
    @RegisterExtension
    final OwnHome own = new OwnHome();

    /** A finished sandbox removal; its run id. */
    private static String applied() {
        TabletopCliTest.Result r = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2", "--yes");
        assertEquals(0, r.code(), r.err() + r.out());
        Matcher m = Pattern.compile("Run (\\S+) \\(journal").matcher(r.out());
        assertTrue(m.find(), r.out());
        return m.group(1);
    }

    private Path journal(String runId) {
        return own.path().resolve("runs").resolve(runId).resolve("journal.jsonl");
    }

    private void garbleLine(String runId, int line) throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(journal(runId), StandardCharsets.UTF_8));
        assertTrue(lines.size() > line + 2, "a middle line: " + lines.size() + " lines");
        lines.set(line - 1, "{\"type\":\"step\",\"attempt\":0,\"ind#garbled");
        Files.write(journal(runId), lines, StandardCharsets.UTF_8);
    }

    @Test
    void aGarbledMiddleLineIsListedDamagedWithItsLine() throws Exception {
        String id = applied();
        garbleLine(id, 3);
        TabletopCliTest.Result list = run("runs");
        assertEquals(0, list.code(), list.err());
        String row = list.out().lines().filter(l -> l.startsWith(id)).findFirst().orElse("");
        assertTrue(row.contains("DAMAGED"), "listed, as DAMAGED:\n" + list.out());
        assertTrue(list.out().contains("DAMAGED: " + journal(id) + " line 3: not JSON"), list.out());
        JsonNode json = new ObjectMapper().readTree(run("runs", "--format", "json").out());
        assertEquals(1, json.size());
        assertEquals("DAMAGED", json.get(0).get("state").asText());
        assertEquals(3, json.get(0).get("damagedLine").asInt());
    }

    @Test
    void resumeLatestNamesTheDamagedNewestRunInsteadOfTakingAnOlderOne() throws Exception {
        String older = applied();
        String newer = applied();
        garbleLine(newer, 3);
        TabletopCliTest.Result latest = run("resume", "--latest", "--yes");
        assertEquals(1, latest.code(), latest.out());
        assertTrue(latest.err().startsWith("tabletop: the newest run, " + newer + ", is DAMAGED: journal line 3: not JSON"), latest.err());
        assertTrue(!latest.err().contains(older) && !latest.out().contains(older), "the older run is not taken: " + latest.out());
        TabletopCliTest.Result byId = run("resume", newer, "--yes");
        assertEquals(1, byId.code());
        assertTrue(byId.err().startsWith("tabletop: run " + newer + " is DAMAGED: journal line 3: not JSON"), byId.err());
    }

    @Test
    void resumeLatestNamesANewerRunWhoseHeaderIsGarbledInsteadOfTakingAnOlderOne() throws Exception {
        String older = applied();
        String newer = applied();
        List<String> lines = new ArrayList<>(Files.readAllLines(journal(newer), StandardCharsets.UTF_8));
        lines.set(0, "{\"type\":\"run\",\"runId\":\"" + newer + "\",\"se#garbled");
        Files.write(journal(newer), lines, StandardCharsets.UTF_8);
        for (String verb : List.of("resume", "restore")) {
            TabletopCliTest.Result latest = run(verb, "--latest", "--yes");
            assertEquals(1, latest.code(), latest.out());
            assertTrue(latest.err().startsWith("tabletop: run " + newer + " may be newer than " + older), latest.err());
            assertTrue(latest.err().contains("is DAMAGED: journal line 1"), latest.err());
        }
    }

    @Test
    void resumeLatestNamesANewerRunWhoseJournalIsDeletedInsteadOfTakingAnOlderOne() throws Exception {
        String older = applied();
        String newer = applied();
        Files.delete(journal(newer));
        TabletopCliTest.Result latest = run("resume", "--latest", "--yes");
        assertEquals(1, latest.code(), latest.out());
        assertTrue(latest.err().startsWith("tabletop: run " + newer + " may be newer than " + older), latest.err());
        assertTrue(latest.err().contains("is DAMAGED: journal journal.jsonl is missing"), latest.err());
    }

    @Test
    void anOlderDamagedRunWithoutASequenceDoesNotStopLatest() throws Exception {
        String older = applied();
        String newer = applied();
        Files.delete(journal(older));
        Path dir = own.path().resolve("runs").resolve(older);
        Files.setLastModifiedTime(dir, java.nio.file.attribute.FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path renamed = dir.resolveSibling("20200101-000000-dead");
        Files.move(dir, renamed);
        Files.setLastModifiedTime(renamed, java.nio.file.attribute.FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Runs runs = new Runs(own.path().resolve("runs"), new AuditLog(own.path().resolve("audit.jsonl")));
        assertEquals(newer, runs.find("latest").record().runId());
    }

    @Test
    void auditNamesARunWhoseJournalIsGone() throws Exception {
        String kept = applied();
        String gone = applied();
        try (Stream<Path> files = Files.walk(own.path().resolve("runs").resolve(gone))) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        TabletopCliTest.Result audit = run("audit");
        assertEquals(1, audit.code(), audit.out());
        assertTrue(audit.out().contains("PROBLEM: run " + gone + " has ") && audit.out().contains("audit record(s) but no journal"), audit.out());
        assertTrue(!audit.out().contains("run " + kept + " has "), "the run with its journal is not named: " + audit.out());
    }

    @Test
    void latestIsTheHighestSequenceEvenWhenTheClockWentBack() throws Exception {
        Path runsDir = own.path().resolve("runs");
        Plan p = new Planner().plan(SandboxFixtures.kuduBaseline(), RemoveServers.of(ServerId.of("ts-2")), EngineCapabilities.kudu());
        Instant now = Instant.parse("2026-11-22T07:00:00Z");
        try (RunJournal first = RunJournal.create(runsDir, header("20261122-070000-aaaa", now, p), p);
             RunJournal second = RunJournal.create(runsDir, header("20261121-070000-bbbb", now.minus(Duration.ofDays(1)), p), p)) {
            first.end("FAILED", "test");
            second.end("FAILED", "test");
        }
        Runs runs = new Runs(runsDir, new AuditLog(own.path().resolve("audit.jsonl")));
        assertEquals("20261121-070000-bbbb", runs.find("latest").record().runId(), "started second, though its clock read a day earlier");
        TabletopCliTest.Result list = run("runs");
        assertTrue(list.out().indexOf("20261121-070000-bbbb") < list.out().indexOf("20261122-070000-aaaa"), "newest first:\n" + list.out());
    }

    private static RunJournal.Header header(String id, Instant at, Plan p) {
        return new RunJournal.Header(id, at, "dba", 4242, "kudu://127.0.0.1:7051", p.before().cluster(), "kudu",
                PlanJson.goalToTree(p.goal()), false);
    }
}
