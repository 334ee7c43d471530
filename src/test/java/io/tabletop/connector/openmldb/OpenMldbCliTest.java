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
}
