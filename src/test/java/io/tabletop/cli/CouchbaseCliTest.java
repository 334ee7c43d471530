package io.tabletop.cli;

import io.tabletop.Main;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.emulator.NsServerEmulator;
import io.tabletop.service.Connections;
import io.tabletop.store.ConnectionStore;
import io.tabletop.store.SnapshotJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line against the ns_server emulator as a DBA uses it: removing the very node the spec names
 * (it leaves and answers as a node of no cluster from then on), then reading the cluster again through the same spec; a wrong
 * password and a cluster that shows nothing, each said in one line. The password never reaches a file.
 */
class CouchbaseCliTest {
    private static final String PASSWORD = "s3cret-Couchbase-cli-pw";

    @TempDir
    Path dir;

    private TabletopCliTest.Result run(String password, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Connections connections = new Connections(Main.registry(), new ConnectionStore(dir.resolve("config").resolve("connections.json")));
        CliContext context = new CliContext(connections, List.of(), r -> Optional.of(password.toCharArray()));
        int code = TabletopCli.run(context, args, new PrintWriter(out), new PrintWriter(err));
        return new TabletopCliTest.Result(code, out.toString(), TabletopCliTest.withoutWarnings(err.toString()));
    }

    private static NsServerEmulator cluster() throws Exception {
        NsServerEmulator.Builder b = NsServerEmulator.builder().credentials("Administrator", PASSWORD).pace(256, 10);
        for (int n = 1; n <= 4; n++) {
            b.dataNode(n);
        }
        return b.bucket("travel-sample", 1, 1024, 31_591).start();
    }

    private void removeTheNodeTheSpecNames(String spec, NsServerEmulator emu) throws Exception {
        String node4 = emu.hosts().get(3);
        TabletopCliTest.Result apply = run(PASSWORD, "apply", "--connect", spec, "--remove", emu.otpNode(3), "--yes");
        assertEquals(0, apply.code(), apply.out() + apply.err());
        assertTrue(apply.out().contains("SUCCEEDED"), apply.out());
        assertFalse(apply.out().contains("BLOCK"), "post-checks pass: " + apply.out());
        assertEquals(List.of(node4), emu.departedHosts(), "the node the spec names left: a node of no cluster now");

        Path f = dir.resolve("after.json");
        TabletopCliTest.Result snapshot = run(PASSWORD, "snapshot", "--connect", spec, "--out", f.toString());
        assertEquals(0, snapshot.code(), snapshot.err());
        ClusterSnapshot s = SnapshotJson.read(f);
        assertEquals(3, s.servers().size(), "read through a member that stays");
        for (Path p : List.of(dir.resolve("config").resolve("members.json"), f)) {
            assertFalse(Files.readString(p).contains(PASSWORD), p + " holds no password");
        }
    }

    @Test
    void removingTheOnlyNodeTheSpecNamesSucceedsAndTheSameSpecReadsTheClusterAfterwards() throws Exception {
        try (NsServerEmulator emu = cluster()) {
            removeTheNodeTheSpecNames("couchbase://Administrator@" + emu.hosts().get(3), emu);
        }
    }

    @Test
    void removingTheFirstOfSeveralNodesTheSpecNamesSucceedsAndTheSameSpecReadsTheClusterAfterwards() throws Exception {
        try (NsServerEmulator emu = cluster()) {
            removeTheNodeTheSpecNames("couchbase://Administrator@" + emu.hosts().get(3) + "," + emu.hosts().get(0), emu);
        }
    }

    @Test
    void aWrongPasswordIsOneLine() throws Exception {
        try (NsServerEmulator emu = cluster()) {
            TabletopCliTest.Result r = run("not-the-password", "snapshot", "--connect", "couchbase://Administrator@" + emu.hosts().get(0));
            assertTrue(r.code() != 0);
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("wrong user name or password for 'Administrator'"), r.err());
            assertFalse(r.err().contains("not-the-password"));
        }
    }

    @Test
    void aClusterThatShowsNoBucketIsRefusedInOneLineAndNoSnapshotIsWritten() throws Exception {
        NsServerEmulator.Builder b = NsServerEmulator.builder().credentials("Administrator", PASSWORD).noBucketsVisible();
        b.dataNode(1).dataNode(2);
        try (NsServerEmulator emu = b.bucket("travel-sample", 1, 64, 100).start()) {
            Path f = dir.resolve("empty.json");
            TabletopCliTest.Result r = run(PASSWORD, "snapshot", "--connect", "couchbase://Administrator@" + emu.hosts().get(0),
                    "--out", f.toString());
            assertTrue(r.code() != 0, "not exit 0");
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("no bucket is visible to 'Administrator'"), r.err());
            assertFalse(Files.exists(f), "no 0-server snapshot written");
        }
    }
}
