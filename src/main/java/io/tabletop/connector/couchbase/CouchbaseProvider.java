package io.tabletop.connector.couchbase;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectionForm;
import io.tabletop.connector.ConnectionSpec;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.SecretSource;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Couchbase Server: {@code couchbase://USER@HOST[:PORT][,HOST[:PORT]...]} (the REST port, default 8091)
 * or {@code couchbases://USER@HOST[:PORT],...[?ca=FILE]} (TLS, default 18091, host names verified, the
 * cluster's CA from FILE or the system's). The password comes from {@code TABLETOP_COUCHBASE_PASSWORD}
 * or a prompt, never from the spec.
 */
public final class CouchbaseProvider implements EngineProvider {
    /** The environment variable the password is read from. */
    public static final String PASSWORD_VARIABLE = "TABLETOP_COUCHBASE_PASSWORD";

    /** A parsed Couchbase spec. {@code ca} is null when the system's CAs are trusted. */
    public record Spec(boolean tls, String userName, List<String> hosts, Path ca) implements ConnectionSpec {
        public Spec {
            hosts = List.copyOf(hosts);
        }

        @Override
        public Engine engine() {
            return Engine.COUCHBASE;
        }

        @Override
        public String text() {
            return (tls ? "couchbases://" : "couchbase://") + userName + "@" + String.join(",", hosts) + (ca == null ? "" : "?ca=" + ca);
        }

        @Override
        public Optional<String> user() {
            return Optional.of(userName);
        }
    }

    @Override
    public Engine engine() {
        return Engine.COUCHBASE;
    }

    @Override
    public String displayName() {
        return "Couchbase Server";
    }

    @Override
    public List<String> schemes() {
        return List.of("couchbase", "couchbases");
    }

    @Override
    public String example() {
        return "couchbase://USER@HOST[:8091][,HOST...] or couchbases://USER@HOST[:18091][,HOST...][?ca=FILE]";
    }

    @Override
    public Spec parse(String spec) {
        String s = spec.strip();
        String lower = s.toLowerCase(Locale.ROOT);
        boolean tls;
        String rest;
        if (lower.startsWith("couchbases://")) {
            tls = true;
            rest = s.substring("couchbases://".length());
        } else if (lower.startsWith("couchbase://")) {
            tls = false;
            rest = s.substring("couchbase://".length());
        } else {
            throw new IllegalArgumentException("a Couchbase connection starts with couchbase:// or couchbases://, e.g. couchbase://Administrator@10.0.0.5:8091");
        }
        Path ca = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            for (String kv : rest.substring(q + 1).split("&")) {
                if (kv.startsWith("ca=") && tls) {
                    ca = Path.of(URLDecoder.decode(kv.substring(3), StandardCharsets.UTF_8));
                } else if (!kv.isBlank()) {
                    throw new IllegalArgumentException("unknown option '" + kv + "' in " + s + (tls ? " (only ca=FILE)" : " (options: none; ca= needs couchbases://)"));
                }
            }
            rest = rest.substring(0, q);
        }
        int at = rest.indexOf('@');
        if (at <= 0) {
            throw new IllegalArgumentException("name the user: " + (tls ? "couchbases://" : "couchbase://") + "USER@" + rest
                    + " (the password comes from " + PASSWORD_VARIABLE + " or a prompt, never from the spec)");
        }
        String user = rest.substring(0, at);
        if (user.contains(":")) {
            throw new IllegalArgumentException("no password in the spec: write couchbase://" + user.substring(0, user.indexOf(':'))
                    + "@… and give the password in " + PASSWORD_VARIABLE + " or at the prompt");
        }
        int defaultPort = tls ? 18091 : 8091;
        List<String> hosts = new ArrayList<>();
        for (String h : rest.substring(at + 1).split(",")) {
            String t = h.strip();
            if (t.isEmpty()) {
                throw new IllegalArgumentException("an empty host in " + s);
            }
            int colon = t.lastIndexOf(':');
            boolean portPart = colon > 0 && t.lastIndexOf(']') < colon && (t.startsWith("[") || t.indexOf(':') == colon);
            if (portPart && !t.substring(colon + 1).matches("\\d{1,5}")) {
                throw new IllegalArgumentException("'" + t + "' in " + s + " is not HOST or HOST:PORT");
            }
            hosts.add(portPart ? t : t + ":" + defaultPort);
        }
        return new Spec(tls, user, hosts, ca);
    }

    /** The spec's hosts, then the members remembered from an earlier connection that are not among them. */
    @Override
    public ConnectionSpec withMembers(ConnectionSpec spec, List<String> members) {
        Spec s = (Spec) spec;
        List<String> hosts = new ArrayList<>(s.hosts());
        for (String m : members) {
            if (m.matches("[A-Za-z0-9.\\-]+:\\d{1,5}|\\[[0-9A-Fa-f:.]+\\]:\\d{1,5}") && !hosts.contains(m)) {
                hosts.add(m);
            }
        }
        return new Spec(s.tls(), s.userName(), hosts, s.ca());
    }

    @Override
    public Optional<SecretSource.Request> secret(ConnectionSpec spec) {
        Spec s = (Spec) spec;
        return Optional.of(new SecretSource.Request(PASSWORD_VARIABLE, "Password of " + s.userName() + " on " + String.join(",", s.hosts())));
    }

    @Override
    public ClusterConnector open(ConnectionSpec spec, OpenOptions options) throws ConnectorException {
        Spec s = (Spec) spec;
        if (s.ca() != null && !Files.isReadable(s.ca())) {
            throw new ConnectorException(Engine.COUCHBASE, "connect", "cannot read the CA file " + s.ca());
        }
        char[] password = options.secrets().secret(secret(spec).orElseThrow()).orElseThrow(() -> new ConnectorException(Engine.COUCHBASE,
                "connect", "no password for " + s.userName() + ": set " + PASSWORD_VARIABLE + " or enter it when asked"));
        CouchbaseRest rest = new CouchbaseRest(s.hosts(), s.tls(), s.ca(), s.userName(), password);
        Arrays.fill(password, '\0');
        try {
            return new CouchbaseConnector(s.text(), rest);
        } catch (ConnectorException | RuntimeException e) {
            rest.close();
            throw e;
        }
    }

    @Override
    public EngineCapabilities capabilities() {
        return EngineCapabilities.couchbase();
    }

    @Override
    public ConnectionForm form() {
        return new ConnectionForm(List.of(
                ConnectionForm.Field.of("hosts", "Nodes", ConnectionForm.Kind.HOST_LIST, "127.0.0.1:8091",
                        "any nodes of the cluster, HOST[:PORT], comma-separated; the REST port is 8091 (18091 with TLS)", true),
                ConnectionForm.Field.of("user", "User", ConnectionForm.Kind.USER, "Administrator", "a user with the Cluster Admin role", true),
                ConnectionForm.Field.choice("tls", "TLS", List.of("no", "yes"), "no", "yes: couchbases://, host names verified"),
                ConnectionForm.Field.of("ca", "CA file", ConnectionForm.Kind.FILE, "", "the cluster's CA certificate (PEM), with TLS; "
                        + "empty: the system's CAs", false),
                ConnectionForm.Field.of("password", "Password", ConnectionForm.Kind.SECRET, "", "kept in memory only; or set "
                        + PASSWORD_VARIABLE, false)));
    }

    @Override
    public String specFrom(Map<String, String> values) {
        String hosts = ConnectionForm.value(values, "hosts").replace(" ", "");
        String user = ConnectionForm.value(values, "user");
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("Nodes: give at least one HOST[:PORT]");
        }
        if (user.isEmpty()) {
            throw new IllegalArgumentException("User: give the user name");
        }
        boolean tls = ConnectionForm.value(values, "tls").equals("yes");
        String ca = ConnectionForm.value(values, "ca");
        if (!ca.isEmpty() && !tls) {
            throw new IllegalArgumentException("CA file: only with TLS");
        }
        return parse((tls ? "couchbases://" : "couchbase://") + user + "@" + hosts + (ca.isEmpty() ? "" : "?ca=" + ca)).text();
    }
}
