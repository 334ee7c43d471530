package io.tabletop.security;

import io.tabletop.cli.CliContext;
import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectionForm;
import io.tabletop.connector.ConnectionSpec;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.EngineRegistry;
import io.tabletop.connector.SecretSource;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxProvider;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Connections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A secret given to Tabletop is never written. An engine that asks for a password (a sandbox behind a
 * password check, standing in for Couchbase and OpenMLDB until their connectors land) is used through the
 * command line for a snapshot, a whole removal and a review; then every file Tabletop wrote (logs, journals,
 * audit log, snapshots, plans, saved connections, the review bundle) and everything it printed is searched
 * for the password. A wrong password's error must not echo it either.
 */
class SecretLeakTest {
    @TempDir
    Path dir;

    /** {@code guarded://USER@FIXTURE}: a sandbox that opens only with the right password. */
    static final class GuardedProvider implements EngineProvider {
        private final char[] password;

        GuardedProvider(char[] password) {
            this.password = password.clone();
        }

        record Spec(String name, String fixture) implements ConnectionSpec {
            @Override
            public Engine engine() {
                return Engine.SANDBOX;
            }

            @Override
            public String text() {
                return "guarded://" + name + "@" + fixture;
            }

            @Override
            public Optional<String> user() {
                return Optional.of(name);
            }
        }

        @Override
        public Engine engine() {
            return Engine.SANDBOX;
        }

        @Override
        public String displayName() {
            return "Guarded sandbox";
        }

        @Override
        public List<String> schemes() {
            return List.of("guarded");
        }

        @Override
        public String example() {
            return "guarded://USER@FIXTURE";
        }

        @Override
        public Spec parse(String spec) {
            String rest = spec.strip().substring("guarded://".length());
            int at = rest.indexOf('@');
            if (at <= 0) {
                throw new IllegalArgumentException("expected guarded://USER@FIXTURE");
            }
            return new Spec(rest.substring(0, at), rest.substring(at + 1));
        }

        @Override
        public Optional<SecretSource.Request> secret(ConnectionSpec spec) {
            return Optional.of(new SecretSource.Request("TABLETOP_GUARDED_PASSWORD", "Password for " + ((Spec) spec).name()));
        }

        @Override
        public ClusterConnector open(ConnectionSpec spec, OpenOptions options) throws ConnectorException {
            Spec s = (Spec) spec;
            char[] given = options.secrets().secret(secret(spec).orElseThrow())
                    .orElseThrow(() -> new ConnectorException(Engine.SANDBOX, "connect", "no password for " + s.name()
                            + ": set TABLETOP_GUARDED_PASSWORD or run on a terminal"));
            if (!Arrays.equals(given, password)) {
                throw new ConnectorException(Engine.SANDBOX, "connect", "authentication failed for user " + s.name());
            }
            return SandboxConnector.instant(SandboxProvider.fixture(s.fixture()));
        }

        @Override
        public EngineCapabilities capabilities() {
            return SandboxConnector.rules(1);
        }

        @Override
        public ConnectionForm form() {
            return new ConnectionForm(List.of(ConnectionForm.Field.of("user", "User", ConnectionForm.Kind.USER, "admin", "", true),
                    ConnectionForm.Field.of("password", "Password", ConnectionForm.Kind.SECRET, "", "", false)));
        }

        @Override
        public String specFrom(Map<String, String> values) {
            return "guarded://" + ConnectionForm.value(values, "user") + "@small";
        }
    }

    @Test
    void thePasswordIsWrittenNowhere() throws Exception {
        String secret = "pw-" + UUID.randomUUID();
        String wrong = "wrong-" + UUID.randomUUID();
        EngineRegistry registry = new EngineRegistry(List.of(new SandboxProvider(), new GuardedProvider(secret.toCharArray())));
        Path saved = dir.resolve("connections.json");
        Connections connections = new Connections(registry, new io.tabletop.store.ConnectionStore(saved));
        CliContext good = new CliContext(connections, List.of(), r -> Optional.of(secret.toCharArray()));
        CliContext bad = new CliContext(connections, List.of(), r -> Optional.of(wrong.toCharArray()));
        String spec = "guarded://admin@baseline";
        List<String> printed = new ArrayList<>();

        Path snap = dir.resolve("snap.json");
        CliRun.Out s = CliRun.run(good, "snapshot", "--connect", spec, "--out", snap.toString());
        assertEquals(0, s.code(), s.err());
        CliRun.Out apply = CliRun.run(good, "apply", "--connect", spec, "--remove", "ts-2", "--yes");
        assertEquals(0, apply.code(), apply.err());
        String runId = apply.out().replaceAll("(?s).*Run (\\d{8}-\\d{6}-[0-9a-f]{4}).*", "$1");
        CliRun.Out review = CliRun.run(good, "review", "--snapshot", snap.toString(), "--remove", "ts-2", "--out", dir.resolve("review").toString(), "--no-images");
        assertEquals(0, review.code(), review.err());
        CliRun.Out refused = CliRun.run(bad, "snapshot", "--connect", spec);
        assertEquals(1, refused.code());
        assertEquals("tabletop: sandbox: connect failed: authentication failed for user admin", io.tabletop.cli.TabletopCliTest.withoutWarnings(refused.err()).strip());
        connections.save(List.of(new Connections.Saved("guarded", spec)));
        for (CliRun.Out o : List.of(s, apply, review, refused)) {
            printed.add(o.out());
            printed.add(o.err());
        }

        List<Path> written = new ArrayList<>();
        for (Path root : List.of(AppPaths.home(), dir)) {
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(Files::isRegularFile).forEach(written::add);
            }
        }
        Path journal = AppPaths.home().resolve("runs").resolve(runId).resolve("journal.jsonl");
        assertTrue(written.contains(journal), "the run's journal was written: " + runId);
        assertTrue(Files.readString(journal).contains(spec), "the journal keeps the spec (with its user) for a resume");
        assertTrue(written.contains(saved) && written.contains(AppPaths.home().resolve("audit.jsonl")));
        assertTrue(written.stream().anyMatch(p -> p.getFileName().toString().equals("review.md")));
        List<String> leaks = new ArrayList<>();
        for (Path f : written) {
            if (SecretSearch.contains(f, secret) || SecretSearch.contains(f, wrong)) {
                leaks.add(f.toString());
            }
        }
        assertEquals(List.of(), leaks, "files that hold a password");
        for (String text : printed) {
            assertFalse(text.contains(secret) || text.contains(wrong), "printed a password: " + text);
        }
    }
}
