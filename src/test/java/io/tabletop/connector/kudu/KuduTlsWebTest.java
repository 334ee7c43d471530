package io.tabletop.connector.kudu;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.EngineProvider;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.service.AppPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS web UIs ({@code --webserver_certificate_file}, a test CA made with openssl): the masters alone in
 * the spec, the web UIs found to speak https; accepted with the CA file, refused with a message naming
 * the host without it, with another CA, or with a file that holds no certificate.
 */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduTlsWebTest {
    @TempDir
    Path dir;

    @Test
    void aTlsWebUiIsReadWithTheCaFileAndRefusedClearlyWithout() throws Exception {
        TestCa tls = TestCa.make(dir, "ca");
        Path ca = tls.ca();
        Path other = TestCa.selfSigned(dir, "other");
        List<String> flags = tls.webFlags();
        KuduBinary binary = KuduBinary.locate(Path.of("target", "kudu"));
        try (LocalKuduCluster cluster = LocalKuduCluster.start(binary, null, 1, 3, false, flags, flags)) {
            KuduProvider p = new KuduProvider(AppPaths.home());
            String masters = "kudu://" + cluster.masterAddresses();
            assertEquals(masters + "?ca=" + ca, p.specFrom(java.util.Map.of("masters", cluster.masterAddresses(), "ca", ca.toString())),
                    "the console's form gives the CA file as ?ca=");
            assertEquals(ca, p.parse(masters + "?web=https://" + cluster.masterWebAddress() + "&ca=" + ca).ca());

            try (ClusterConnector c = p.open(p.parse(masters + "?ca=" + ca), EngineProvider.OpenOptions.defaults())) {
                ClusterSnapshot s = c.snapshot();
                assertEquals(3, s.servers().size(), "read over https, verified with the CA file");
            }

            // The masters alone: the web UI is found to speak TLS, and the system's CAs do not know it.
            ConnectorException none = assertThrows(ConnectorException.class, () -> {
                try (ClusterConnector c = p.open(p.parse(masters), EngineProvider.OpenOptions.defaults())) {
                    c.snapshot();
                }
            });
            assertTrue(none.getMessage().contains("https://" + cluster.masterWebAddress()) && none.getMessage().contains("does not verify")
                    && none.getMessage().contains("?ca=FILE"), none.getMessage());

            ConnectorException wrong = assertThrows(ConnectorException.class, () -> {
                try (ClusterConnector c = p.open(p.parse(masters + "?ca=" + other), EngineProvider.OpenOptions.defaults())) {
                    c.snapshot();
                }
            });
            assertTrue(wrong.getMessage().contains("does not verify against the CA file " + other), wrong.getMessage());

            Path garbage = dir.resolve("garbage.pem");
            Files.write(garbage, new byte[]{0, 1, 2, (byte) 0xff, 0x30, 0x0a});
            ConnectorException bad = assertThrows(ConnectorException.class,
                    () -> p.open(p.parse(masters + "?ca=" + garbage), EngineProvider.OpenOptions.defaults()).close());
            assertTrue(bad.getMessage().contains(garbage + " is not a certificate file") || bad.getMessage().contains(garbage + " holds no certificate"),
                    bad.getMessage());
        }
    }

}
