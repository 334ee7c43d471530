package io.tabletop.cli;

import io.tabletop.Main;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.store.SnapshotJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class TabletopCliTest {
    @TempDir
    Path dir;

    public record Result(int code, String out, String err) {
    }

    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TabletopCli.run(Main.cliContext(), args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), withoutWarnings(err.toString()));
    }

    /** Standard error without the once-only warning about a data directory others can read (see PermissionsTest). */
    public static String withoutWarnings(String err) {
        return err.lines().filter(l -> !l.startsWith("tabletop: warning: ")).map(l -> l + "\n").reduce("", String::concat);
    }

    private Path snapshot(String fixture) throws Exception {
        Path f = dir.resolve(fixture + ".json");
        Result r = run("snapshot", "--connect", "sandbox:" + fixture + ":instant", "--out", f.toString());
        assertEquals(0, r.code, r.err);
        return f;
    }

    @Test
    void snapshotWritesTheSandboxAsJson() throws Exception {
        ClusterSnapshot s = SnapshotJson.read(snapshot("baseline"));
        assertEquals(5, s.servers().size());
        assertEquals(60, s.partitions().size());
    }

    @Test
    void planPrintsJsonWithStepsPhasesAndPrediction() throws Exception {
        Result r = run("plan", "--snapshot", snapshot("baseline").toString(), "--remove", "ts-2", "--format", "json");
        assertEquals(0, r.code, r.err);
        JsonNode plan = new ObjectMapper().readTree(r.out);
        assertEquals(36, plan.at("/summary/replicaMoves").asInt());
        assertEquals("HEALTH_GATE", plan.at("/steps/0/type").asText());
        assertEquals(4, plan.at("/predicted/servers").size());
        for (JsonNode s : plan.at("/predicted/servers")) {
            assertEquals(45, s.get("replicas").asInt());
        }
        long moves = 0;
        for (JsonNode st : plan.get("steps")) {
            if (st.get("type").asText().equals("MOVE_REPLICA")) {
                moves++;
                assertEquals("ts-2", st.get("from").asText());
                assertFalse(st.get("reason").asText().isEmpty());
            }
        }
        assertEquals(36, moves);
    }

    /**
     * A command builds only the subcommand it names (picocli reads each one's options by reflection, a
     * tenth of a second of every start): help still lists them all, a misspelt name is still corrected,
     * and the named one still parses and gets its help.
     */
    @Test
    void helpListsEveryCommandThoughARunBuildsOnlyItsOwn() {
        Result help = run("--help");
        assertEquals(0, help.code, help.err);
        for (String c : List.of("snapshot", "plan", "review", "apply", "runs", "resume", "restore", "audit", "local-kudu", "bench")) {
            assertTrue(help.out.lines().anyMatch(l -> l.strip().startsWith(c + " ")), c + " in\n" + help.out);
        }
        Result typo = run("aply", "--connect", "sandbox:small");
        assertEquals(2, typo.code);
        assertTrue(typo.err.contains("Did you mean: tabletop apply"), typo.err);
        Result applyHelp = run("apply", "--help");
        assertEquals(0, applyHelp.code, applyHelp.err);
        assertTrue(applyHelp.out.startsWith("Usage: tabletop apply "), applyHelp.out);
        Result unknownLocal = run("local-nosuch", "start");
        assertEquals(2, unknownLocal.code);
        assertTrue(unknownLocal.err.contains("Did you mean: tabletop local-kudu"), unknownLocal.err);
        Result benchHelp = run("bench", "--help");
        assertEquals(0, benchHelp.code, benchHelp.err);
        assertTrue(benchHelp.out.contains("kudu-drain"), benchHelp.out);
    }

    @Test
    void serversMayBeNamedByAddress() throws Exception {
        Result r = run("plan", "--snapshot", snapshot("baseline").toString(), "--remove", "ts-2.baseline:7050");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("Phase 1: Remove ts-2 (ts-2.baseline:7050)"), r.out);
    }

    @Test
    void unknownServerIsOneLineAndExitOne() throws Exception {
        Result r = run("plan", "--snapshot", snapshot("baseline").toString(), "--remove", "ts-9");
        assertEquals(1, r.code);
        assertEquals("tabletop: unknown server 'ts-9' (known: ts-1, ts-2, ts-3, ts-4, ts-5)\n", r.err);
    }

    @Test
    void impossibleRemovalNamesTheTable() throws Exception {
        Result r = run("plan", "--snapshot", snapshot("tight").toString(), "--remove", "ts-1,ts-2");
        assertEquals(1, r.code);
        assertTrue(r.err.startsWith("tabletop: Replication factor: only 2 live server(s) would remain, fewer than the replication factor of ledger (RF 3)"), r.err);
        assertEquals(1, r.err.lines().count());
    }

    @Test
    void malformedSnapshotIsOneLine() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"servers\": [ {\"id\": \"ts-1\" ");
        Result r = run("plan", "--snapshot", bad.toString(), "--remove", "ts-1");
        assertEquals(1, r.code);
        assertTrue(r.err.startsWith("tabletop: " + bad + ": not valid JSON at line 1"), r.err);
        assertEquals(1, r.err.lines().count());
        Result missing = run("plan", "--snapshot", dir.resolve("nope.json").toString(), "--remove", "ts-1");
        assertEquals(1, missing.code);
        assertTrue(missing.err.contains("no such file"), missing.err);
    }

    @Test
    void applyDrainsTheSandboxAndReportsPostChecks() {
        Result r = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2", "--yes");
        assertEquals(0, r.code, r.err + r.out);
        assertTrue(r.out.contains("PASS  Removed servers empty: no replica left on ts-2; unregistered"), r.out);
        assertTrue(r.out.contains("PASS  Replicas and leaders"), r.out);
        assertTrue(r.out.lines().anyMatch(l -> l.startsWith("SUCCEEDED in ")), r.out);
    }

    @Test
    void applyInAdaptiveModeSaysSoAndReportsItsTimeline() {
        Result r = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2", "--yes",
                "--max-moves-per-server", "auto", "--max-moves-ceiling", "8");
        assertEquals(0, r.code, r.err + r.out);
        assertTrue(r.out.contains("Moves per server: adaptive, from 5, never above 8"), r.out);
        assertTrue(r.out.contains("answered by the pre-check's verdict"), "the first gate runs nothing: " + r.out);
        assertTrue(r.out.lines().anyMatch(l -> l.startsWith("Timeline: first step ") && l.contains("first move")), r.out);
        assertTrue(r.out.lines().filter(l -> l.startsWith("MOVES/SERVER ")).allMatch(l -> Integer.parseInt(l.split(" ")[3].replace(":", "")) <= 8), r.out);
    }

    @Test
    void badConcurrencyValuesAreOneLineEach() {
        Result word = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2", "--yes", "--max-moves-per-server", "fast");
        assertEquals(1, word.code);
        assertEquals("tabletop: --max-moves-per-server takes a number of at least 1, or auto; not 'fast'", word.err.strip());
        Result zero = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2", "--yes", "--max-moves-per-server", "0");
        assertTrue(zero.err.contains("at least 1"), zero.err);
        Result lone = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2", "--yes", "--max-moves-ceiling", "9");
        assertEquals("tabletop: --max-moves-ceiling goes with --max-moves-per-server auto", lone.err.strip());
        Result low = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2", "--yes", "--max-moves-per-server", "auto",
                "--max-moves-ceiling", "3");
        assertTrue(low.err.contains("--max-moves-ceiling 3 is below the engine's default of 5"), low.err);
        assertTrue(low.out.isEmpty(), "stopped before the pre-check: " + low.out);
    }

    @Test
    void applyWithoutYesRefuses() {
        Result r = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2");
        assertEquals(1, r.code);
        assertTrue(r.err.contains("add --yes"), r.err);
    }

    @Test
    void unknownConnectionAndUsageErrors() {
        Result r = run("snapshot", "--connect", "mysql://x");
        assertEquals(1, r.code);
        assertTrue(r.err.startsWith("tabletop: cannot understand connection 'mysql://x'"), r.err);
        assertEquals(2, run("plan").code, "missing required options is a usage error");
        Result help = run("--help");
        assertEquals(0, help.code);
        assertTrue(help.out.contains("snapshot") && help.out.contains("plan") && help.out.contains("apply"), help.out);
    }

    @Test
    void planRebalancesWithABoundAndRefusesTwoGoals() throws Exception {
        Path snap = snapshot("standard");
        Result r = run("plan", "--snapshot", snap.toString(), "--rebalance", "--max-moves", "3", "--format", "json");
        assertEquals(0, r.code, r.err);
        JsonNode plan = new ObjectMapper().readTree(r.out);
        assertEquals("REBALANCE", plan.at("/goal/type").asText());
        assertEquals(3, plan.at("/goal/maxMoves").asInt());
        assertTrue(plan.at("/summary/replicaMoves").asInt() <= 3);
        Result both = run("plan", "--snapshot", snap.toString(), "--rebalance", "--remove", "ts-1");
        assertEquals(1, both.code);
        assertTrue(both.err.contains("name one goal"), both.err);
    }

    @Test
    void planForACouchbaseSnapshotIsOneRebalanceWithAForecast() throws Exception {
        Path f = dir.resolve("cb.json");
        SnapshotJson.write(io.tabletop.planner.CouchbasePredictionTestAccess.seed001(), f);
        Result r = run("plan", "--snapshot", f.toString(), "--remove", "node3,node4", "--format", "json");
        assertEquals(0, r.code, r.err);
        JsonNode plan = new ObjectMapper().readTree(r.out);
        assertEquals(1, plan.get("steps").size());
        assertEquals("ENGINE_REBALANCE", plan.at("/steps/0/type").asText());
        assertEquals(2, plan.at("/predicted/tables/0/effectiveReplicationFactor").asInt(), "one replica kept: 2 copies");
        assertEquals(1, plan.at("/predicted/buckets/0/replicasKept").asInt());
        Result text = run("plan", "--snapshot", f.toString(), "--remove", "node4");
        assertTrue(text.out.contains("Bucket travel-sample: 1024 vBuckets, 2 replica(s) wanted, 2 kept"), text.out);
    }

    @Test
    void applyRecordsARunThatRunsListsAndTheAuditLogHolds() throws Exception {
        Result r = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2", "--yes");
        assertEquals(0, r.code, r.err + r.out);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Run (\\S+) \\(journal").matcher(r.out);
        assertTrue(m.find(), r.out);
        String id = m.group(1);
        Result list = run("runs", "--format", "json");
        assertEquals(0, list.code, list.err);
        JsonNode runs = new ObjectMapper().readTree(list.out);
        JsonNode mine = null;
        for (JsonNode n : runs) {
            if (n.get("runId").asText().equals(id)) {
                mine = n;
            }
        }
        assertTrue(mine != null, "run " + id + " listed: " + list.out);
        assertEquals("SUCCEEDED", mine.get("state").asText());
        assertEquals("remove ts-2", mine.get("goalSummary").asText());
        assertTrue(mine.get("stepsSucceeded").asInt() > 36);
        Result text = run("runs");
        assertTrue(text.out.contains(id), text.out);
        Result resume = run("resume", id, "--yes");
        assertEquals(1, resume.code);
        assertTrue(resume.err.contains("sandbox"), resume.err);
        Result none = run("resume");
        assertEquals(1, none.code);
        assertTrue(none.err.contains("--latest"), none.err);
        Result audit = run("audit");
        assertEquals(0, audit.code, audit.err);
        assertTrue(audit.out.contains("hash chain intact"), audit.out);
    }

    @Test
    void planRestoreToPreviewsTheReversePlan() throws Exception {
        ClusterSnapshot before = io.tabletop.connector.sandbox.SandboxFixtures.kuduBaseline();
        io.tabletop.planner.Plan removal = new io.tabletop.planner.Planner().plan(before,
                io.tabletop.planner.RemoveServers.of(io.tabletop.domain.ServerId.of("ts-2")), io.tabletop.domain.EngineCapabilities.kudu());
        java.util.List<io.tabletop.domain.Step> firstTen = removal.steps().stream()
                .filter(st -> st.type() == io.tabletop.domain.StepType.MOVE_REPLICA).limit(10).toList();
        Path b = dir.resolve("before.json");
        Path m = dir.resolve("mid.json");
        SnapshotJson.write(before, b);
        SnapshotJson.write(io.tabletop.planner.PlanApplier.apply(before, firstTen), m);
        Result r = run("plan", "--snapshot", m.toString(), "--restore-to", b.toString(), "--format", "json");
        assertEquals(0, r.code, r.err);
        JsonNode plan = new ObjectMapper().readTree(r.out);
        assertEquals("RESTORE", plan.at("/goal/type").asText());
        assertEquals(10, plan.at("/summary/replicaMoves").asInt());
        Result none = run("restore");
        assertEquals(1, none.code);
        assertTrue(none.err.contains("--latest"), none.err);
    }

    @Test
    void reviewWritesTheBundleWithEveryStepAndTheChecks() throws Exception {
        Path snap = snapshot("baseline");
        Path out = dir.resolve("review");
        Result r = run("review", "--snapshot", snap.toString(), "--remove", "ts-2", "--out", out.toString());
        assertEquals(0, r.code, r.err);
        for (String f : new String[]{"review.md", "review.html", "plan.json", "snapshot-before.json", "snapshot-after.json"}) {
            assertTrue(Files.size(out.resolve(f)) > 100, f + " written");
        }
        Result plan = run("plan", "--snapshot", snap.toString(), "--remove", "ts-2", "--format", "json");
        JsonNode written = new ObjectMapper().readTree(out.resolve("plan.json").toFile());
        JsonNode printed = new ObjectMapper().readTree(plan.out);
        assertEquals(printed, written, "plan.json is the plan");
        String md = Files.readString(out.resolve("review.md"));
        assertTrue(md.startsWith("# Change review: Remove ts-2 from baseline"), md.lines().findFirst().orElse(""));
        int steps = printed.get("steps").size();
        for (int i = 1; i <= steps; i++) {
            assertTrue(md.contains("\n| " + i + " | "), "step " + i + " is in the step table");
        }
        for (JsonNode c : printed.get("checks")) {
            assertTrue(md.contains("| " + c.get("verdict").asText() + " | " + c.get("name").asText() + " |"), "check " + c.get("name"));
        }
        assertTrue(md.contains("| ts-2 | 36 → removed |"), "before → after distribution");
        String html = Files.readString(out.resolve("review.html"));
        assertTrue(html.contains("<h2>Steps</h2>"), "html has the step table");
        assertTrue(html.contains("<td>" + steps + "</td>"), "html lists the last step");
        assertEquals(SnapshotJson.read(snap).partitions().size(), SnapshotJson.read(out.resolve("snapshot-after.json")).partitions().size());
    }
}
