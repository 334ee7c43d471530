package io.tabletop.connector.kudu;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The port's contract on a cluster shaped as production runs Kudu: three masters on random ports, Kerberos
 * (a real MIT KDC, {@code --rpc_authentication=required}, SPNEGO web UIs) and TLS web UIs (a test CA).
 * Tabletop is given the masters' RPC addresses, the operator's ticket cache and the CA file, nothing else.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduProductionContractTest extends ConnectorContract {
    private Path dir;
    private MiniKdc kdc;
    private LocalKuduCluster cluster;
    private KuduBinary binary;
    private Path ca;
    private KuduConnector kudu;

    @BeforeAll
    void start() throws Exception {
        MiniKdc.assumeInstalled();
        dir = Files.createTempDirectory("tabletop-kudu-prod-");
        try {
            kdc = MiniKdc.start(dir);
            TestCa tls = TestCa.make(dir, "ca");
            ca = tls.ca();
            String ticket = kdc.kinit("dba", kdc.keytab("dba", "dba"), "dba.ccache");
            binary = KuduBinary.locate(Path.of("target", "kudu")).withKerberos(KuduKerberos.of(kdc.krb5Conf(), ticket));
            List<String> flags = new ArrayList<>(MiniKdc.serverFlags(kdc.serverKeytab(), "dba"));
            flags.addAll(tls.webFlags());
            cluster = LocalKuduCluster.start(binary, null, 3, 3, false, flags, flags);
            cluster.loadTables(new int[]{4, 3}, 500, 3);
            kudu = (KuduConnector) openAnother();
        } catch (Exception | AssertionError e) {
            stop();
            throw e;
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (kudu != null) {
            kudu.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (kdc != null) {
            kdc.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** As KuduProvider.open does from kudu://MASTERS?ca=FILE, with this test's ticket cache instead of the environment's. */
    @Override
    protected ClusterConnector openAnother() throws Exception {
        Map<String, String> webs = KuduProvider.webAddresses(new KuduCli(binary, cluster.masterAddresses()));
        KuduConnector c = new KuduConnector(cluster.masterAddresses(), List.copyOf(webs.values()), binary, null, ca);
        c.knowMasters(webs);
        return c;
    }

    @Override
    protected ClusterConnector connector() {
        return kudu;
    }

    @Test
    void everyMasterIsFoundAndAnswersOverTlsAndSpnego() throws Exception {
        Map<String, String> webs = KuduProvider.webAddresses(new KuduCli(binary, cluster.masterAddresses()));
        assertEquals(3, webs.size(), "the three masters' web UIs, from the masters: " + webs);
        assertEquals(List.of(), kudu.mastersDown());
        assertTrue(kudu.engineChecks(kudu.snapshot(), List.of()).stream().anyMatch(c -> c.message().equals("all 3 masters answer")));
        assertEquals(3, kudu.snapshot().servers().size());
    }
}
