package io.tabletop.connector;

import io.tabletop.Main;
import io.tabletop.connector.kudu.KuduProvider;
import io.tabletop.connector.sandbox.SandboxProvider;
import io.tabletop.domain.Engine;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Specs find their engine, parse into typed specs, and a bad one says what is wrong. */
class EngineRegistryTest {
    private final EngineRegistry registry = Main.registry();

    @Test
    void eachSpecGoesToItsEngine() {
        assertEquals(Engine.SANDBOX, registry.parse("sandbox").engine());
        assertEquals(Engine.SANDBOX, registry.parse("sandbox:baseline:instant").engine());
        assertEquals(Engine.KUDU, registry.parse("kudu://127.0.0.1:7051").engine());
        assertEquals(Engine.KUDU, registry.parse("  KUDU://127.0.0.1:7051,127.0.0.2:7051  ").engine());
    }

    @Test
    void kuduSpecKeepsMastersAndWebAddresses() {
        KuduProvider.Spec s = (KuduProvider.Spec) registry.parse("kudu://127.0.0.1:27500,127.0.0.2:27500?web=127.0.0.1:27501");
        assertEquals(List.of("127.0.0.1:27500", "127.0.0.2:27500"), s.masters());
        assertEquals(List.of("127.0.0.1:27501"), s.web());
        assertEquals("kudu://127.0.0.1:27500,127.0.0.2:27500?web=127.0.0.1:27501", s.text());
    }

    @Test
    void kuduMovesThroughTheCliWhenTheSpecAsks() {
        KuduProvider.Spec cli = (KuduProvider.Spec) registry.parse("kudu://127.0.0.1:7051?moves=cli");
        assertTrue(cli.cliMoves());
        assertEquals("kudu://127.0.0.1:7051?moves=cli", cli.text());
        assertEquals(false, ((KuduProvider.Spec) registry.parse("kudu://127.0.0.1:7051?moves=rpc")).cliMoves());
        assertEquals(false, ((KuduProvider.Spec) registry.parse("kudu://127.0.0.1:7051")).cliMoves());
        String bad = assertThrows(IllegalArgumentException.class, () -> registry.parse("kudu://127.0.0.1:7051?moves=fast")).getMessage();
        assertTrue(bad.contains("unknown option 'moves=fast'") && bad.contains("moves=cli"), bad);
    }

    @Test
    void sandboxSpecNamesFixtureAndSpeed() {
        SandboxProvider.Spec s = (SandboxProvider.Spec) registry.parse("sandbox:large:instant");
        assertEquals("large", s.fixture());
        assertTrue(s.instant());
        assertEquals("sandbox", registry.parse("sandbox:standard").text());
    }

    @Test
    void badSpecsSayWhatIsWrong() {
        String unknown = assertThrows(IllegalArgumentException.class, () -> registry.parse("cassandra://x:1")).getMessage();
        assertTrue(unknown.contains("cannot understand connection 'cassandra://x:1'") && unknown.contains("kudu://HOST:PORT"), unknown);
        String port = assertThrows(IllegalArgumentException.class, () -> registry.parse("kudu://127.0.0.1")).getMessage();
        assertTrue(port.contains("'127.0.0.1'") && port.contains("is not HOST:PORT"), port);
        String option = assertThrows(IllegalArgumentException.class, () -> registry.parse("kudu://127.0.0.1:7051?user=x")).getMessage();
        assertTrue(option.contains("unknown option 'user=x'"), option);
        String fixture = assertThrows(IllegalArgumentException.class, () -> registry.parse("sandbox:huge")).getMessage();
        assertTrue(fixture.contains("unknown sandbox cluster 'huge'") && fixture.contains("large"), fixture);
        String speed = assertThrows(IllegalArgumentException.class, () -> registry.parse("sandbox:small:slow")).getMessage();
        assertTrue(speed.contains("unknown sandbox speed 'slow'"), speed);
    }

    @Test
    void formValuesMakeTheSpec() {
        EngineProvider kudu = registry.providerFor("kudu://x:1");
        assertEquals("kudu://127.0.0.1:27500?web=127.0.0.1:27501",
                kudu.specFrom(Map.of("masters", " 127.0.0.1:27500 ", "web", "127.0.0.1:27501")));
        assertEquals("kudu://127.0.0.1:7051", kudu.specFrom(Map.of("masters", "127.0.0.1:7051")));
        String empty = assertThrows(IllegalArgumentException.class, () -> kudu.specFrom(Map.of("masters", " "))).getMessage();
        assertTrue(empty.startsWith("Masters:"), empty);
        EngineProvider sandbox = registry.providerFor("sandbox");
        assertEquals("sandbox:small:instant", sandbox.specFrom(Map.of("fixture", "small", "speed", "instant")));
        for (EngineProvider p : registry.providers()) {
            assertTrue(p.form().fields().stream().noneMatch(f -> f.kind() == ConnectionForm.Kind.SECRET && f.required()),
                    p.displayName() + ": a secret may come from the environment, so the form never requires it");
        }
    }

    @Test
    void twoProvidersMayNotClaimOneScheme() {
        String msg = assertThrows(IllegalArgumentException.class,
                () -> new EngineRegistry(List.of(new SandboxProvider(), new SandboxProvider()))).getMessage();
        assertTrue(msg.contains("'sandbox'"), msg);
    }

    @Test
    void kuduMastersThatDoNotAnswerAreOneLine() {
        // No ?web=: the web UIs are asked of the masters themselves, and nothing listens on this port.
        KuduProvider kudu = new KuduProvider(io.tabletop.service.AppPaths.home());
        ConnectorException e = assertThrows(ConnectorException.class,
                () -> kudu.open(kudu.parse("kudu://127.0.0.1:27500"), EngineProvider.OpenOptions.defaults()));
        assertTrue(e.getMessage().contains("no master answered at 127.0.0.1:27500 within 3 s"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void snapshotsOfEveryEnginePlanByTheirRules() {
        assertTrue(registry.capabilities(Engine.KUDU).maintenanceMode());
        assertTrue(registry.capabilities(Engine.COUCHBASE).engineRebalance());
        assertTrue(!registry.capabilities(Engine.OPENMLDB).moveLeaderReplicas());
        assertTrue(!registry.capabilities(Engine.SANDBOX).engineRereplicates(), "the sandbox declares its own rules");
    }
}
