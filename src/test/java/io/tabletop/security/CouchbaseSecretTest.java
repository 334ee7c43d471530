package io.tabletop.security;

import io.tabletop.Main;
import io.tabletop.cli.CliContext;
import io.tabletop.emulator.NsServerEmulator;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Connections;
import io.tabletop.store.ConnectionStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Couchbase from the command line, against the ns_server emulator: a snapshot, a removal named by the
 * node's hostname with the forecast printed before it runs, a review, a wrong password; then every file
 * Tabletop wrote and everything it printed is searched for the password, plain and as the Basic header
 * carries it.
 */
class CouchbaseSecretTest {
    @TempDir
    Path dir;

    @Test
    void aRemovalFromTheCommandLineWritesThePasswordNowhere() throws Exception {
        String secret = "cb-" + UUID.randomUUID();
        String wrong = "wrong-" + UUID.randomUUID();
        try (NsServerEmulator emu = NsServerEmulator.builder().credentials("Administrator", secret).pace(64, 20)
                .dataNode(1).dataNode(2).dataNode(3).dataNode(4).bucket("travel-sample", 2, 1024, 31_591).start()) {
            Path saved = dir.resolve("connections.json");
            Connections connections = new Connections(Main.registry(), new ConnectionStore(saved));
            CliContext good = new CliContext(connections, List.of(), r -> Optional.of(secret.toCharArray()));
            CliContext bad = new CliContext(connections, List.of(), r -> Optional.of(wrong.toCharArray()));
            String spec = "couchbase://Administrator@" + String.join(",", emu.hosts());
            String node4 = emu.hosts().get(3);

            Path snap = dir.resolve("snap.json");
            CliRun.Out s = CliRun.run(good, "snapshot", "--connect", spec, "--out", snap.toString());
            assertEquals(0, s.code(), s.err());
            CliRun.Out apply = CliRun.run(good, "apply", "--connect", spec, "--remove", node4, "--yes");
            assertEquals(0, apply.code(), apply.out() + apply.err());
            int forecast = apply.out().indexOf("Bucket travel-sample: 1024 vBuckets, 2 replica(s) wanted, 2 kept");
            int ran = apply.out().indexOf("Run ");
            assertTrue(forecast >= 0 && forecast < ran, "the forecast is printed before the run starts:\n" + apply.out());
            assertFalse(emu.members().contains("ns_1@" + node4.substring(0, node4.indexOf(':'))), "node 4 left");
            CliRun.Out review = CliRun.run(good, "review", "--snapshot", snap.toString(), "--remove", "ns_1@127.0.1.3", "--out",
                    dir.resolve("review").toString(), "--no-images");
            assertEquals(0, review.code(), review.err());
            CliRun.Out refused = CliRun.run(bad, "snapshot", "--connect", spec);
            assertEquals(1, refused.code());
            assertTrue(refused.err().contains("wrong user name or password for 'Administrator' (HTTP 401)"), refused.err());
            assertEquals(1, refused.err().strip().lines().count(), "one line: " + refused.err());
            connections.save(List.of(new Connections.Saved("emulated", spec)));

            List<String> needles = List.of(secret, wrong,
                    Base64.getEncoder().encodeToString(("Administrator:" + secret).getBytes(StandardCharsets.UTF_8)),
                    Base64.getEncoder().encodeToString(("Administrator:" + wrong).getBytes(StandardCharsets.UTF_8)));
            List<Path> written = new ArrayList<>();
            for (Path root : List.of(AppPaths.home(), dir)) {
                try (Stream<Path> files = Files.walk(root)) {
                    files.filter(Files::isRegularFile).forEach(written::add);
                }
            }
            assertTrue(written.contains(saved) && written.contains(AppPaths.home().resolve("audit.jsonl")));
            assertTrue(written.stream().anyMatch(p -> p.getFileName().toString().equals("review.md")));
            assertTrue(Files.readString(saved).contains("couchbase://Administrator@"), "the saved connection keeps the user");
            List<String> leaks = new ArrayList<>();
            for (Path f : written) {
                for (String n : needles) {
                    if (SecretSearch.contains(f, n)) {
                        leaks.add(f.toString());
                    }
                }
            }
            assertEquals(List.of(), leaks, "files that hold the password");
            for (CliRun.Out o : List.of(s, apply, review, refused)) {
                for (String n : needles) {
                    assertFalse(o.out().contains(n) || o.err().contains(n), "printed the password");
                }
            }
        }
    }
}
