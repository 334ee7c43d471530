package io.tabletop.cli;

import io.tabletop.connector.kudu.LocalKuduClusters;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.service.AppPaths;
import io.tabletop.store.SnapshotJson;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.tabletop.cli.TabletopCliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line against a real local Kudu cluster that outlives each command. */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class LocalKuduCliTest {
    private static final String NAME = "cli-test";

    @TempDir
    Path dir;

    @AfterEach
    void stopCluster() throws Exception {
        stopLocalCluster(NAME);
    }

    /** Stops the named local cluster if it still runs, and checks that none of its processes is left. */
    static void stopLocalCluster(String name) throws Exception {
        var c = LocalKuduClusters.attach(AppPaths.home().resolve("kudu-local").resolve(name));
        if (c.isPresent()) {
            var servers = c.get().servers();
            c.get().stopAll();
            assertTrue(servers.stream().noneMatch(s -> ProcessHandle.of(s.pid()).map(ProcessHandle::isAlive).orElse(false)),
                    "every process of the local cluster is gone");
        }
    }

    @Test
    void startSnapshotApplyWithStopLocalStatusAndStop() throws Exception {
        var start = run("local-kudu", "start", "--name", NAME, "--masters", "3", "--tservers", "4", "--tables", "8,6", "--rows", "2000");
        assertEquals(0, start.code(), start.err());
        String spec = start.out().strip();
        String addr = "127\\.0\\.0\\.1:\\d+";
        assertTrue(spec.matches("kudu://" + addr + "," + addr + "," + addr + "\\?web=" + addr + "," + addr + "," + addr), spec);
        String masters = spec.substring(0, spec.indexOf('?'));

        assertEquals(1, run("local-kudu", "start", "--name", NAME).code(), "a second start of the same name is refused");

        Path snap = dir.resolve("k.json");
        assertEquals(0, run("snapshot", "--connect", masters, "--out", snap.toString()).code(), "web address found from the record");
        ClusterSnapshot s = SnapshotJson.read(snap);
        assertEquals(4, s.servers().size());
        assertEquals(14, s.partitions().size());
        String address = s.servers().get(2).address();

        var apply = run("apply", "--connect", masters, "--remove", address, "--yes", "--stop-local");
        assertEquals(0, apply.code(), apply.out() + apply.err());
        assertTrue(apply.out().contains("PASS  Removed servers empty"), apply.out());
        assertTrue(apply.out().contains("PASS  Cluster health: ksck OK: 3 tablet servers, 14 tablets"), apply.out());

        var status = run("local-kudu", "status", "--name", NAME);
        assertEquals(0, status.code());
        assertTrue(status.out().lines().anyMatch(l -> l.contains(address) && l.endsWith("stopped")), status.out());
        assertEquals(3, status.out().lines().filter(l -> l.startsWith("tserver-") && l.endsWith("running")).count(), status.out());

        assertEquals(0, run("local-kudu", "stop", "--name", NAME).code());
        assertTrue(LocalKuduClusters.attach(AppPaths.home().resolve("kudu-local").resolve(NAME)).isEmpty());
    }

    @Test
    void badKuduSpecsAreOneLine() {
        var two = run("local-kudu", "start", "--name", NAME, "--masters", "2");
        assertEquals(1, two.code());
        assertTrue(two.err().contains("1, 3 or 5 masters"), two.err());
        var r = run("snapshot", "--connect", "kudu://127.0.0.1");
        assertEquals(1, r.code());
        assertEquals("tabletop: '127.0.0.1' in kudu://127.0.0.1 is not HOST:PORT\n", TabletopCliTest.withoutWarnings(r.err()));
        var noWeb = run("snapshot", "--connect", "kudu://127.0.0.1:17051");
        assertEquals(1, noWeb.code());
        assertTrue(noWeb.err().contains("no master answered at 127.0.0.1:17051 within 3 s"), noWeb.err());
        var noLocal = run("apply", "--connect", "kudu://127.0.0.1:17051?web=127.0.0.1:17052", "--remove", "x", "--yes", "--stop-local");
        assertEquals(1, noLocal.code());
        assertTrue(noLocal.err().contains("--stop-local: no local cluster with masters 127.0.0.1:17051"), noLocal.err());
    }
}
