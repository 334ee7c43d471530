package io.tabletop.store;

import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ServerId;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunState;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Planner;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.ReviewBundle;
import io.tabletop.service.Runs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What Tabletop writes is its user's alone: directories it creates 0700, files 0600 (POSIX file systems). */
class PermissionsTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void posix() {
        assumeTrue(PrivateFiles.POSIX, "permissions are POSIX's; elsewhere the platform's defaults apply");
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void aRunsJournalsAuditLogAndReviewArePrivate() throws Exception {
        Path home = dir.resolve("home"); // does not exist yet: Tabletop makes it
        Runs runs = new Runs(home.resolve("runs"), new AuditLog(home.resolve("audit.jsonl")));
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            Plan plan = new Planner().plan(sandbox.snapshot(), RemoveServers.of(ServerId.of("ts-2")), sandbox.capabilities());
            Runs.Run run = runs.start(plan, sandbox, "sandbox", false, new ExecutorOptions(5, 3, Duration.ZERO), null, null);
            assertEquals(RunState.SUCCEEDED, run.done().get(30, TimeUnit.SECONDS).state());
            ReviewBundle.write(home.resolve("reviews").resolve("r1"), new ReviewBundle.Review(plan, plan.checks(), "me", Instant.now(), null));
        }
        SnapshotJson.write(SandboxFixtures.small(), home.resolve("snapshots").resolve("small.json"));
        List<Path> all;
        try (Stream<Path> walk = Files.walk(home)) {
            all = walk.toList();
        }
        assertTrue(all.size() > 8, "journal, plan, snapshot, audit log and head, review files: " + all);
        for (Path p : all) {
            assertEquals(Files.isDirectory(p) ? "rwx------" : "rw-------", mode(p), home.relativize(p).toString());
        }
    }

    @Test
    void aDirectoryOthersCanReadIsReportedWithTheFix() throws Exception {
        Path open = Files.createDirectory(dir.resolve("open"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        String said = PrivateFiles.tooOpen(open).orElseThrow();
        assertEquals(open + " can be read by other users (rwxr-xr-x); make it private with: chmod -R go-rwx '" + open + "'", said);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwx------"));
        assertTrue(PrivateFiles.tooOpen(open).isEmpty(), "private: nothing to say");
        assertTrue(PrivateFiles.tooOpen(dir.resolve("missing")).isEmpty());
    }
}
