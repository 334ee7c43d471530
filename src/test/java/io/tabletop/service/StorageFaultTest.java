package io.tabletop.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.executor.StepDispatcher;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.store.AuditLog;
import io.tabletop.store.RunJournal;
import io.tabletop.testing.DelegatingConnector;
import io.tabletop.testing.FaultyStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

import static io.tabletop.executor.PlanExecutionTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Write-ahead, fail-stop: a step starts only after its journal line and audit record are on disk; a write that
 * fails stops new work and says which file and why; a torn tail is moved aside and named, never glued onto.
 */
class StorageFaultTest {
    private static final ExecutorOptions FAST = new ExecutorOptions(5, 3, Duration.ZERO);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ServerId TS2 = ServerId.of("ts-2");

    @TempDir
    Path dir;

    private Path audit() {
        return dir.resolve("audit.jsonl");
    }

    @Test
    void anAuditLogThatRefusesWritesStopsTheRunBeforeTheNextStep() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Path saved = dir.resolve("audit.saved");
            // at the 10th step the log becomes a directory: no write to it succeeds, not even root's
            Executed cluster = new Executed(sandbox, 10, n -> swap(audit(), saved));
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(audit()));
            Runs.Run run = runs.start(plan, cluster, "sandbox", false, FAST, null, null);
            RunResult r = run.done().get(30, TimeUnit.SECONDS);
            Files.delete(audit());
            Files.move(saved, audit());

            assertEquals(RunState.FAILED, r.state());
            assertNotNull(run.recordFault(), "the run says why it stopped");
            assertTrue(run.recordFault().contains(audit().toString()) && run.recordFault().contains("Is a directory"), run.recordFault());
            assertTrue(cluster.steps.size() < plan.steps().size(), "the run stopped: " + cluster.steps.size() + " of " + plan.steps().size());
            assertEquals(startedInLog(run.runId()), new TreeSet<>(cluster.steps), "every step that ran was audited before it ran, and no other");
            assertTrue(r.steps().stream().filter(o -> o.state() == StepState.SKIPPED)
                    .allMatch(o -> o.message().startsWith("not run: cannot write the audit log " + audit())), r.steps().toString());
            RunJournal.RunRecord rec = RunJournal.read(dir.resolve("runs").resolve(run.runId()));
            assertEquals("FAILED", rec.endState());
            AuditLog.Report check = runs.checkAudit();
            assertTrue(check.problems().stream().anyMatch(p -> p.startsWith("run " + run.runId() + ": ") && p.contains("never reached the audit log")),
                    "audit reports the gap: " + check.problems());
        }
    }

    @Test
    void aFullStoreStopsTheRunAndLeavesNoTornRecord() throws Exception {
        FaultyStorage disk = new FaultyStorage();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            // at the 10th step the disk has room for 150 more bytes: the next record is cut short
            Executed cluster = new Executed(sandbox, 10, n -> disk.fillAfter(150));
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(audit(), disk), disk);
            Runs.Run run = runs.start(plan, cluster, "sandbox", false, FAST, null, null);
            RunResult r = run.done().get(30, TimeUnit.SECONDS);

            assertEquals(RunState.FAILED, r.state());
            assertTrue(run.recordFault() != null && run.recordFault().contains("No space left on device"), String.valueOf(run.recordFault()));
            assertTrue(run.recordFault().contains(audit().toString()) || run.recordFault().contains("journal.jsonl"), run.recordFault());
            assertTrue(cluster.steps.size() < plan.steps().size(), "the run stopped");
            assertTrue(startedInLog(run.runId()).containsAll(cluster.steps), "no step ran without its audit record");
            Path journal = dir.resolve("runs").resolve(run.runId()).resolve("journal.jsonl");
            for (Path f : List.of(audit(), journal)) {
                assertWhole(f);
            }
            disk.free();
            assertEquals(java.util.Optional.empty(), AuditLog.verify(audit()), "the chain is whole");
            assertTrue(runs.find(run.runId()).resumable(), "the run is listed, resumable (its end could not be written)");
        }
    }

    @Test
    void aTornAuditTailIsMovedAsideAndTheNextRunIsAudited() throws Exception {
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(audit()));
            Plan first = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            assertEquals(RunState.SUCCEEDED, runs.start(first, sandbox, "sandbox", false, FAST, null, null).done().get(30, TimeUnit.SECONDS).state());
            long lines = Files.readAllLines(audit()).size();
            try (FileChannel ch = FileChannel.open(audit(), StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() - 40); // truncate -s -40 audit.jsonl
            }

            Executed cluster = new Executed(sandbox, Integer.MAX_VALUE, n -> { });
            Plan second = new Planner().plan(sandbox.snapshot(), RemoveServers.of(ServerId.of("ts-3")), sandbox.capabilities());
            Runs.Run run = runs.start(second, cluster, "sandbox", false, FAST, null, null);
            assertEquals(RunState.SUCCEEDED, run.done().get(30, TimeUnit.SECONDS).state());

            assertEquals(new TreeSet<>(cluster.steps), startedInLog(run.runId()), "the run's records are written");
            List<Path> torn = torn(audit());
            assertEquals(1, torn.size(), "the torn bytes are kept aside: " + torn);
            assertFalse(Files.readString(torn.get(0)).endsWith("\n"), "they are the torn line");
            AuditLog.Report report = runs.checkAudit();
            assertTrue(report.intact(), report.problems().toString());
            assertTrue(report.notes().stream().anyMatch(n -> n.startsWith("cut at line " + lines + ", torn bytes in " + torn.get(0))),
                    "audit names the cut: " + report.notes());
        }
    }

    @Test
    void aResumeAfterATornJournalTailKeepsTheRunReadable() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(TS2), sandbox.capabilities());
            Runs first = new Runs(dir.resolve("runs"), new AuditLog(audit()));
            AtomicInteger handed = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            StepDispatcher dying = (step, work) -> { // the process dies after 20 steps
                if (handed.incrementAndGet() <= 20) {
                    pool.execute(() -> {
                        work.run();
                        ran.incrementAndGet();
                    });
                }
            };
            Runs.Run run = first.start(plan, sandbox, "sandbox", false, FAST, null, dying);
            waitFor(() -> ran.get() == 20 && run.execution().coordinatorWaiting());
            run.abandonLocks(); // the first process is gone: the OS has let go of its locks
            Path runDir = dir.resolve("runs").resolve(run.runId());
            Path journal = runDir.resolve("journal.jsonl");
            try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() - 25); // its last line was cut short as it died
            }

            Runs second = new Runs(dir.resolve("runs"), new AuditLog(audit()));
            Runs.RunInfo info = second.find(run.runId());
            Runs.Resume resume = second.prepareResume(info, sandbox);
            assertNotNull(resume.plan(), () -> resume.checks().toString());
            assertEquals(RunState.SUCCEEDED, second.resume(resume, sandbox, FAST, null, null).done().get(30, TimeUnit.SECONDS).state());

            List<String> problems = new ArrayList<>();
            List<Runs.RunInfo> listed = second.list(problems);
            assertEquals(List.of(), problems);
            assertEquals(List.of(run.runId()), listed.stream().map(i -> i.record().runId()).toList(), "the run is still listed");
            assertEquals("SUCCEEDED", listed.get(0).state());
            List<Path> torn = torn(journal);
            assertEquals(1, torn.size(), "the torn bytes are kept aside");
            assertTrue(listed.get(0).record().events().stream().anyMatch(e -> e.startsWith("torn-tail: ") && e.contains(torn.get(0).toString())),
                    "the journal names the .torn file: " + listed.get(0).record().events());
            assertWhole(journal);
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** The steps (0-based) the audit log holds a "step started" record of, for run {@code runId}. */
    private Set<Integer> startedInLog(String runId) throws IOException {
        Set<Integer> out = new TreeSet<>();
        for (String line : Files.readAllLines(audit(), StandardCharsets.UTF_8)) {
            JsonNode n = JSON.readTree(line);
            if (runId.equals(n.path("run").asText()) && "step started".equals(n.path("action").asText())) {
                out.add(Integer.parseInt(n.path("step").asText().split(" ")[0]) - 1);
            }
        }
        return out;
    }

    /** Ends in a newline, and every line is JSON. */
    private static void assertWhole(Path f) throws IOException {
        String text = Files.readString(f);
        assertTrue(text.endsWith("\n"), f + " ends in a torn line");
        for (String line : text.split("\n")) {
            assertNotNull(JSON.readTree(line), f + ": " + line);
        }
    }

    private static List<Path> torn(Path f) throws IOException {
        try (Stream<Path> s = Files.list(f.getParent())) {
            return s.filter(p -> p.getFileName().toString().startsWith(f.getFileName() + ".torn-")).toList();
        }
    }

    /** Moves the log aside and puts a directory in its place. */
    private static void swap(Path log, Path saved) {
        try {
            Files.move(log, saved);
            Files.createDirectory(log);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The sandbox, recording each step it runs; before the {@code at}-th it calls {@code fault}. */
    static final class Executed extends DelegatingConnector {
        final Set<Integer> steps = ConcurrentHashMap.newKeySet();
        private final AtomicInteger count = new AtomicInteger();
        private final int at;
        private final IntConsumer fault;

        Executed(ClusterConnector inner, int at, IntConsumer fault) {
            super(inner);
            this.at = at;
            this.fault = fault;
        }

        @Override
        public void execute(Step step, StepProgress progress) throws ConnectorException, InterruptedException {
            steps.add(step.index());
            if (count.incrementAndGet() == at) {
                fault.accept(step.index());
            }
            inner.execute(step, progress);
        }
    }
}
