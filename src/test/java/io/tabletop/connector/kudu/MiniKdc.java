package io.tabletop.connector.kudu;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real MIT Kerberos KDC on 127.0.0.1, from Debian's krb5-kdc and krb5-admin-server (as Kudu's own
 * MiniKdc harness runs it): its own realm, database and config in a directory of the test's, stopped on
 * close. Principals get keytabs; {@link #kinit} puts a ticket in a cache of the test's, never the user's.
 */
final class MiniKdc implements AutoCloseable {
    static final String REALM = "KRBTEST.COM";
    private static final Path KRB5KDC = Path.of("/usr/sbin/krb5kdc");
    private static final Path KDB5_UTIL = Path.of("/usr/sbin/kdb5_util");
    private static final Path KADMIN_LOCAL = Path.of("/usr/sbin/kadmin.local");
    private static final Path KINIT = Path.of("/usr/bin/kinit");

    private final Path dir;
    private final int port;
    private Process kdc;

    private MiniKdc(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Skips the test where the KDC packages are missing (.ci/run installs them). */
    static void assumeInstalled() {
        assumeTrue(Files.isExecutable(KRB5KDC) && Files.isExecutable(KDB5_UTIL) && Files.isExecutable(KADMIN_LOCAL)
                && Files.isExecutable(KINIT), "MIT Kerberos is not installed: apt-get install krb5-kdc krb5-admin-server krb5-user");
    }

    static MiniKdc start(Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        MiniKdc k = new MiniKdc(dir, port);
        Files.writeString(k.krb5Conf(), String.join("\n",
                "[libdefaults]",
                "  default_realm = " + REALM,
                "  dns_lookup_kdc = false",
                "  dns_lookup_realm = false",
                "  rdns = false",
                "  dns_canonicalize_hostname = false",
                "  udp_preference_limit = 1",
                "  ticket_lifetime = 24h",
                // Servers here are dialled by IP (127.0.0.1), not by the FQDN Kudu names its acceptor after:
                // accept any kudu/* or HTTP/* key in the keytab (MIT krb5.conf, [libdefaults]).
                "  ignore_acceptor_hostname = true",
                "[realms]",
                "  " + REALM + " = {",
                "    kdc = 127.0.0.1:" + port,
                "  }", ""));
        Files.writeString(dir.resolve("kdc.conf"), String.join("\n",
                "[kdcdefaults]",
                "  kdc_listen = 127.0.0.1:" + port,
                "  kdc_tcp_listen = 127.0.0.1:" + port,
                "[realms]",
                "  " + REALM + " = {",
                "    database_name = " + dir.resolve("principal"),
                "    key_stash_file = " + dir.resolve("stash"),
                "    acl_file = " + dir.resolve("kadm5.acl"),
                "    kdc_listen = 127.0.0.1:" + port,
                "    kdc_tcp_listen = 127.0.0.1:" + port,
                "  }", ""));
        Files.writeString(dir.resolve("kadm5.acl"), "");
        k.tool(KDB5_UTIL.toString(), "create", "-s", "-r", REALM, "-P", "kdc-master-key");
        ProcessBuilder pb = new ProcessBuilder(KRB5KDC.toString(), "-n", "-r", REALM);
        k.environment(pb.environment());
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("krb5kdc.out").toFile());
        k.kdc = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                break;
            } catch (IOException e) {
                if (!k.kdc.isAlive() || System.nanoTime() > deadline) {
                    k.close();
                    throw new IllegalStateException("the KDC did not start: " + Files.readString(dir.resolve("krb5kdc.out")));
                }
                k.kdc.waitFor(50, TimeUnit.MILLISECONDS); // look again when it may be listening
            }
        }
        return k;
    }

    Path krb5Conf() {
        return dir.resolve("krb5.conf");
    }

    /** The environment the KDC tools, the Kudu servers and the kudu CLI take their Kerberos config from. */
    void environment(Map<String, String> env) {
        env.put("KRB5_CONFIG", krb5Conf().toString());
        env.put("KRB5_KDC_PROFILE", dir.resolve("kdc.conf").toString());
    }

    /** Adds principals with random keys and writes them to one keytab. */
    Path keytab(String name, String... principals) throws Exception {
        Path kt = dir.resolve(name + ".keytab");
        for (String p : principals) {
            tool(KADMIN_LOCAL.toString(), "-r", REALM, "-q", "addprinc -randkey " + p);
            tool(KADMIN_LOCAL.toString(), "-r", REALM, "-q", "ktadd -k " + kt + " " + p);
        }
        return kt;
    }

    /**
     * A keytab for Kudu's servers: kudu/ and HTTP/ (SPNEGO) for 127.0.0.1, which clients dial, and for this
     * host's names, which Kudu's preflight check looks for (ServerNegotiation::PreflightCheckGSSAPI).
     */
    Path serverKeytab() throws Exception {
        java.util.Set<String> hosts = new java.util.LinkedHashSet<>(List.of("127.0.0.1",
                java.net.InetAddress.getLocalHost().getHostName(), java.net.InetAddress.getLocalHost().getCanonicalHostName()));
        return keytab("kudu", hosts.stream().flatMap(h -> java.util.stream.Stream.of("kudu/" + h, "HTTP/" + h)).toArray(String[]::new));
    }

    /** The servers' flags for a Kerberized cluster whose superuser is {@code admin}. */
    static List<String> serverFlags(Path keytab, String admin) {
        return List.of("--keytab_file=" + keytab, "--principal=kudu/127.0.0.1", "--rpc_authentication=required",
                "--superuser_acl=" + admin, "--webserver_require_spnego");
    }

    /** Gets a ticket for {@code principal} from its keytab into a new cache; returns "FILE:path". */
    String kinit(String principal, Path keytab, String cacheName) throws Exception {
        return kinit(principal, keytab, cacheName, "24h");
    }

    /** As {@link #kinit(String, Path, String)}, the ticket living {@code lifetime} ("5s", "24h"). */
    String kinit(String principal, Path keytab, String cacheName, String lifetime) throws Exception {
        Path cache = dir.resolve(cacheName);
        tool(Map.of("KRB5CCNAME", "FILE:" + cache), KINIT.toString(), "-l", lifetime, "-kt", keytab.toString(), principal);
        return "FILE:" + cache;
    }

    /** Waits until the tickets in {@code ccache} have expired ({@code klist -s} fails), looking five times a second. */
    void awaitExpired(String ccache, long timeoutSeconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            ProcessBuilder pb = new ProcessBuilder("/usr/bin/klist", "-s");
            environment(pb.environment());
            pb.environment().put("KRB5CCNAME", ccache);
            Process p = pb.redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                return;
            }
            kdc.waitFor(200, TimeUnit.MILLISECONDS); // the KDC runs on: this only paces the look
        }
        throw new IllegalStateException("the tickets in " + ccache + " did not expire within " + timeoutSeconds + " s");
    }

    private void tool(String... cmd) throws Exception {
        tool(Map.of(), cmd);
    }

    private void tool(Map<String, String> extra, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of(cmd)));
        environment(pb.environment());
        pb.environment().putAll(extra);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (kdc != null) {
            kdc.destroy();
            if (!kdc.waitFor(10, TimeUnit.SECONDS)) {
                kdc.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
