package io.tabletop.connector.openmldb;

import io.tabletop.Main;
import io.tabletop.cli.TabletopCli;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code apply --connect openmldb://…}: a tablet scaled in (the test plays the operator who stops it), then scale-out onto a new one. */
class OpenMldbCliTest {
    @Test
    void aPasswordAndItsHashAreWrittenNowhere() throws Exception {
        String password = "om-" + java.util.UUID.randomUUID();
        String hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(password.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        try (OpenMldbCluster cl = new OpenMldbCluster("uadmin:1" + hash, 1, 10)) {
            for (int n = 1; n <= 3; n++) {
                cl.ns.addTablet(n);
            }
            cl.ns.addTable("demo", "t1", 6, 2, 100);
            io.tabletop.cli.CliContext ctx = new io.tabletop.cli.CliContext(new io.tabletop.service.Connections(Main.registry()),
                    java.util.List.of(), r -> java.util.Optional.of(password.toCharArray()));
            String spec = "openmldb://admin@" + cl.zkConnect() + "/openmldb";
            java.nio.file.Path snap = java.nio.file.Files.createTempFile("openmldb-snap", ".json");
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            assertEquals(0, TabletopCli.run(ctx, new String[]{"snapshot", "--connect", spec, "--out", snap.toString()},
                    new PrintWriter(out), new PrintWriter(err)), err.toString());
            java.util.List<java.nio.file.Path> written = new java.util.ArrayList<>(java.util.List.of(snap));
            try (var files = java.nio.file.Files.walk(io.tabletop.service.AppPaths.home())) {
                files.filter(java.nio.file.Files::isRegularFile).forEach(written::add);
            }
            for (java.nio.file.Path f : written) {
                String text = new String(java.nio.file.Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
                assertTrue(!text.contains(password) && !text.contains(hash), f + " holds the password or its hash");
            }
            assertTrue(!out.toString().contains(password) && !err.toString().contains(hash));
            java.nio.file.Files.delete(snap);
        }
    }

    @Test
    void applyScalesATabletInAndThenOutOntoANewOne() throws Exception {
        try (OpenMldbCluster cl = OpenMldbConnectorTest.seed002("sdefault", 1)) {
            String gone = "127.0.2.3:10921";
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            AtomicInteger code = new AtomicInteger(-1);
            Thread apply = new Thread(() -> code.set(TabletopCli.run(Main.cliContext(),
                    new String[]{"apply", "--connect", cl.spec(), "--remove", gone, "--yes"}, new PrintWriter(out), new PrintWriter(err))));
            apply.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (cl.ns.loads().get(gone)[0] > 0) { // the operator stops the tablet once it holds nothing
                assertTrue(apply.isAlive(), "apply ended early: " + out + err);
                assertTrue(System.nanoTime() < deadline, "no progress: " + out);
                apply.join(100); // look ten times a second
            }
            cl.ns.stopTablet(gone);
            apply.join(TimeUnit.SECONDS.toMillis(120));
            assertEquals(0, code.get(), out + "\n" + err);
            assertTrue(out.toString().contains("PASS  Removed servers empty"), out.toString());
            assertTrue(cl.ns.autoFailover(), "auto_failover back on");

            String fresh = cl.ns.addTablet(4);
            StringWriter out2 = new StringWriter();
            int c2 = TabletopCli.run(Main.cliContext(), new String[]{"apply", "--connect", cl.spec(), "--scale-out", fresh, "--yes"},
                    new PrintWriter(out2), new PrintWriter(new StringWriter()));
            assertEquals(0, c2, out2.toString());
            assertTrue(cl.ns.loads().get(fresh)[0] > 0, out2.toString());
        }
    }

    /** On OpenMLDB a scale-out evens leaders only when asked: each leader change may lose writes (OpenMLDB's own words). */
    @Test
    void aScaleOutPlanChangesNoLeaderUnlessAsked() throws Exception {
        try (OpenMldbCluster cl = new OpenMldbCluster("sdefault", 1, 10)) {
            for (int n = 1; n <= 3; n++) {
                cl.ns.addTablet(n);
            }
            cl.ns.addTable("demo", "t3", 8, 3, 1000);
            cl.ns.addTable("demo", "t2", 12, 2, 1000);
            String fresh = cl.ns.addTablet(4);
            java.nio.file.Path snap = java.nio.file.Files.createTempFile("openmldb-snap", ".json");
            StringWriter err = new StringWriter();
            assertEquals(0, TabletopCli.run(Main.cliContext(), new String[]{"snapshot", "--connect", cl.spec(), "--out", snap.toString()},
                    new PrintWriter(new StringWriter()), new PrintWriter(err)), err.toString());
            StringWriter out = new StringWriter();
            assertEquals(0, TabletopCli.run(Main.cliContext(), new String[]{"plan", "--snapshot", snap.toString(), "--scale-out", fresh},
                    new PrintWriter(out), new PrintWriter(err)), err.toString());
            assertTrue(out.toString().contains(" 0 leader transfers"), "no leader change by default: " + out);
            StringWriter asked = new StringWriter();
            assertEquals(0, TabletopCli.run(Main.cliContext(), new String[]{"plan", "--snapshot", snap.toString(), "--scale-out", fresh,
                    "--balance-leaders"}, new PrintWriter(asked), new PrintWriter(err)), err.toString());
            assertTrue(!asked.toString().contains(" 0 leader transfers"), "leader balance when asked: " + asked);
            java.nio.file.Files.delete(snap);
        }
    }
}
