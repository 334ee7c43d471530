package io.tabletop.connector.kudu;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.RunState;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.AppPaths;
import io.tabletop.service.RemovalService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Kerberized Kudu cluster, as production runs it: a real MIT KDC on 127.0.0.1, a keytab for the
 * servers ({@code kudu/127.0.0.1} and {@code HTTP/127.0.0.1} for SPNEGO), {@code --rpc_authentication=required}
 * and {@code --webserver_require_spnego}. Tabletop works from the operator's ticket cache after kinit,
 * and says "run kinit" in one line without one.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduKerberosTest {
    @TempDir
    Path dir;

    @Test
    void aKerberizedClusterIsReadAndDrainedFromATicketCacheAndRefusedWithoutOne() throws Exception {
        MiniKdc.assumeInstalled();
        try (MiniKdc kdc = MiniKdc.start(dir)) {
            Path serverKeytab = kdc.serverKeytab();
            Path dbaKeytab = kdc.keytab("dba", "dba");
            String ticket = kdc.kinit("dba", dbaKeytab, "dba.ccache");
            KuduKerberos withTicket = KuduKerberos.of(kdc.krb5Conf(), ticket);
            KuduBinary binary = KuduBinary.locate(Path.of("target", "kudu")).withKerberos(withTicket);
            List<String> flags = MiniKdc.serverFlags(serverKeytab, "dba");
            try (LocalKuduCluster cluster = LocalKuduCluster.start(binary, null, 1, 4, false, flags, flags)) {
                cluster.loadTables(new int[]{6, 4}, 2_000, 3);
                String masters = cluster.masterAddresses();

                // The web UI asks for SPNEGO: a plain request is refused.
                okhttp3.Response plain = new okhttp3.OkHttpClient().newCall(new okhttp3.Request.Builder()
                        .url("http://" + cluster.masterWebAddress() + "/dump-entities").build()).execute();
                assertEquals(401, plain.code(), "the web UI requires SPNEGO");
                plain.close();

                // No ticket: one line that says kinit, within 5 s, from the command line's own process.
                Path noTicket = dir.resolve("none.ccache");
                long t0 = System.nanoTime();
                Child none = tabletop(kdc, "FILE:" + noTicket, "snapshot", "--connect", "kudu://" + masters, "--out", dir.resolve("n.json").toString());
                long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
                assertEquals(1, none.code, none.out);
                assertTrue(none.out.contains("no Kerberos ticket") && none.out.contains("run kinit"), none.out);
                assertEquals(1, none.out.strip().lines().filter(l -> l.startsWith("tabletop:")).count(), "one line: " + none.out);
                assertTrue(none.out.lines().noneMatch(l -> l.strip().startsWith("at ")), "no stack trace: " + none.out);
                assertTrue(seconds < 5 + 3, "said within 5 s of the cluster's answer (JVM start aside): " + seconds + " s");

                // An expired ticket: one line that says kinit, too.
                String shortLived = kdc.kinit("dba", dbaKeytab, "short.ccache", "3s");
                kdc.awaitExpired(shortLived, 30);
                Child expired = tabletop(kdc, shortLived, "snapshot", "--connect", "kudu://" + masters, "--out", dir.resolve("e.json").toString());
                assertEquals(1, expired.code, expired.out);
                assertTrue(expired.out.contains("run kinit") && expired.out.lines().noneMatch(l -> l.strip().startsWith("at ")), expired.out);
                assertTrue(!Files.exists(dir.resolve("e.json")), "nothing written");

                // With the ticket from kinit: the command line reads the cluster (CLI calls and SPNEGO both).
                Path snap = dir.resolve("k.json");
                Child read = tabletop(kdc, ticket, "snapshot", "--connect", "kudu://" + masters, "--out", snap.toString());
                assertEquals(0, read.code, read.out);
                assertTrue(Files.readString(snap).contains("\"partitions\""), "a snapshot was written");

                // In this process, a connector on the ticket: the masters alone, topology over SPNEGO, and a drain.
                KuduConnector c = new KuduConnector(masters, List.of(cluster.masterWebAddress()), binary, null);
                RemovalService service = new RemovalService();
                ServerId victim = c.snapshot().servers().get(1).id();
                String victimRpc = c.snapshot().server(victim).orElseThrow().address();
                RemovalService.PreCheck pc = service.preCheck(c, new RemoveServers(List.of(victim), true, 0.85));
                assertNotNull(pc.plan(), pc.checks().toString());
                Map<String, Long> rows = pc.rows();
                RunResult r = service.execution(pc.plan(), c, ExecutorOptions.defaults(5), new io.tabletop.executor.ExecutionListener() {
                    @Override
                    public void stepProgress(io.tabletop.domain.Step step, double fraction, String message) {
                        if (message.startsWith("Stop the tablet server process at " + victimRpc)) {
                            try {
                                cluster.stop(victimRpc); // the operator
                            } catch (ConnectorException e) {
                                throw new IllegalStateException(e);
                            }
                        }
                    }
                }, null).start().get(150, TimeUnit.SECONDS);
                assertEquals(RunState.SUCCEEDED, r.state(), r.failures().toString());
                assertTrue(c.byRpc(), "the moves were consensus calls, authenticated by SASL GSSAPI from the same ticket");
                List<CheckResult> post = service.postChecks(pc.plan(), c, rows);
                assertTrue(post.stream().noneMatch(x -> x.verdict() == Verdict.BLOCK), post.toString());
                assertTrue(c.snapshot().server(victim).isEmpty(), "unregistered");

                // The same connector on an empty cache: one line, not a hang.
                KuduConnector without = new KuduConnector(masters, List.of(cluster.masterWebAddress()),
                        binary.withKerberos(KuduKerberos.of(kdc.krb5Conf(), "FILE:" + noTicket)), null);
                ConnectorException e = assertThrows(ConnectorException.class, without::snapshot);
                assertTrue(e.getMessage().contains("run kinit"), e.getMessage());
                c.close();
                without.close();
            }
        }
    }

    private record Child(int code, String out) {
    }

    /** Runs tabletop's command line in its own JVM with this Kerberos environment, as an operator's shell would. */
    private Child tabletop(MiniKdc kdc, String ccache, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dtabletop.home=" + AppPaths.home().toAbsolutePath(), "io.tabletop.Main"));
        cmd.addAll(List.of(args));
        Path out = dir.resolve("child-" + System.nanoTime() + ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("KRB5_CONFIG", kdc.krb5Conf().toString());
        pb.environment().put("KRB5CCNAME", ccache);
        Process p = pb.start();
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the command ended");
            return new Child(p.exitValue(), Files.readString(out));
        } finally {
            p.destroyForcibly();
        }
    }
}
