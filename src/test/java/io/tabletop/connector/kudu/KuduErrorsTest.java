package io.tabletop.connector.kudu;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Verdict;
import io.tabletop.planner.RemoveServers;
import io.tabletop.service.RemovalService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every way a Kudu connection goes wrong gives one clear line. No cluster is started. */
@EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
class KuduErrorsTest {
    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort(); // closed again at once: nothing listens there
        }
    }

    @Test
    void unreachableMasterSaysWhichAddressCouldNotBeReached() throws Exception {
        int port = closedPort();
        KuduConnector k = new KuduConnector("127.0.0.1:" + port, List.of("127.0.0.1:" + port),
                KuduBinary.locate(Path.of("target", "kudu")), null);
        ConnectorException e = assertThrows(ConnectorException.class, k::snapshot);
        assertTrue(e.getMessage().startsWith("kudu: read /dump-entities failed: cannot reach http://127.0.0.1:" + port), e.getMessage());
        assertTrue(e.isTransient());
        long t0 = System.nanoTime();
        ConnectorException h = assertThrows(ConnectorException.class, k::health);
        assertTrue(h.getMessage().startsWith("kudu: read /dump-entities failed: cannot reach http://127.0.0.1:" + port), h.getMessage());
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "fails fast, not after ksck's timeouts");
    }

    @Test
    void aWrongAddressIsNamed() throws Exception {
        KuduConnector k = new KuduConnector("no-such-host.invalid:7051", List.of("no-such-host.invalid:8051"),
                KuduBinary.locate(Path.of("target", "kudu")), null);
        ConnectorException e = assertThrows(ConnectorException.class, k::snapshot);
        assertTrue(e.getMessage().contains("no-such-host.invalid"), e.getMessage());
    }

    @Test
    void aMissingKuduBinaryIsNamed() throws Exception {
        KuduConnector k = new KuduConnector("127.0.0.1:7051", List.of("127.0.0.1:" + closedPort()),
                KuduBinary.at(Path.of("/nonexistent/bin/kudu")), null);
        ConnectorException e = assertThrows(ConnectorException.class,
                () -> k.execute(io.tabletop.domain.Step.gate(0, null, "test"), (f, m) -> { }));
        assertTrue(e.getMessage().startsWith("kudu: cluster ksck failed: cannot run /nonexistent/bin/kudu"), e.getMessage());
    }

    @Test
    void theConsoleShowsAnUnreachableClusterAsABlockedPrecheckNotAStackTrace() throws Exception {
        int port = closedPort();
        KuduConnector k = new KuduConnector("127.0.0.1:" + port, List.of("127.0.0.1:" + port),
                KuduBinary.locate(Path.of("target", "kudu")), null);
        ConnectorException e = assertThrows(ConnectorException.class,
                () -> new RemovalService().preCheck(k, RemoveServers.of(ServerId.of("x"))));
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
        CheckResult c = io.tabletop.service.RemovalServiceAccess.health(k);
        assertEquals(Verdict.BLOCK, c.verdict());
        assertTrue(c.message().startsWith("cannot check health: kudu: read /dump-entities failed: cannot reach"), c.message());
    }
}
