package io.tabletop.connector.openmldb;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectionForm;
import io.tabletop.connector.ConnectionSpec;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.SecretSource;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * OpenMLDB: {@code openmldb://[USER@]ZK_HOST:PORT[,ZK_HOST:PORT...][/ZK_ROOT_PATH]} (what {@code
 * openmldb_ops.py} takes as {@code --zk_cluster} and {@code --zk_root_path}; root {@code /openmldb} by
 * default), or {@code openmldb+ns://[USER@]HOST:PORT} for one nameserver without ZooKeeper. With a user,
 * the password comes from {@code TABLETOP_OPENMLDB_PASSWORD} or a prompt; without one, the built-in
 * service token ({@code sdefault}) is sent.
 */
public final class OpenMldbProvider implements EngineProvider {
    public static final String PASSWORD_VARIABLE = "TABLETOP_OPENMLDB_PASSWORD";
    /** ZooKeeper's digest password, where the cluster runs with {@code --zk_cert=USER:PASSWORD}. */
    public static final String ZK_PASSWORD_VARIABLE = "TABLETOP_OPENMLDB_ZK_PASSWORD";

    /** A parsed spec: ZooKeeper hosts and root, or one nameserver; the user, if any. */
    public record Spec(String userName, List<String> zookeeper, String root, String nameserver, String zkUser) implements ConnectionSpec {
        public Spec {
            zookeeper = zookeeper == null ? List.of() : List.copyOf(zookeeper);
        }

        @Override
        public Engine engine() {
            return Engine.OPENMLDB;
        }

        @Override
        public String text() {
            String u = userName == null ? "" : userName + "@";
            return nameserver != null ? "openmldb+ns://" + u + nameserver : "openmldb://" + u + String.join(",", zookeeper) + root
                    + (zkUser == null ? "" : "?zk_user=" + zkUser);
        }

        @Override
        public Optional<String> user() {
            return Optional.ofNullable(userName);
        }
    }

    @Override
    public Engine engine() {
        return Engine.OPENMLDB;
    }

    @Override
    public String displayName() {
        return "OpenMLDB";
    }

    @Override
    public List<String> schemes() {
        return List.of("openmldb", "openmldb+ns");
    }

    @Override
    public boolean accepts(String spec) {
        String s = spec.strip().toLowerCase(Locale.ROOT);
        return s.startsWith("openmldb://") || s.startsWith("openmldb+ns://");
    }

    @Override
    public String example() {
        return "openmldb://[USER@]ZK_HOST:2181[,ZK_HOST:2181...]/openmldb or openmldb+ns://[USER@]HOST:7527";
    }

    @Override
    public Spec parse(String spec) {
        String s = spec.strip();
        String lower = s.toLowerCase(Locale.ROOT);
        boolean direct = lower.startsWith("openmldb+ns://");
        if (!direct && !lower.startsWith("openmldb://")) {
            throw new IllegalArgumentException("an OpenMLDB connection starts with openmldb://ZK_HOST:PORT/ROOT or openmldb+ns://HOST:PORT");
        }
        String rest = s.substring(direct ? "openmldb+ns://".length() : "openmldb://".length());
        String user = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            user = rest.substring(0, at);
            if (user.isEmpty() || user.contains(":")) {
                throw new IllegalArgumentException("no password in the spec: write openmldb://USER@… and give the password in "
                        + PASSWORD_VARIABLE + " or at the prompt");
            }
            rest = rest.substring(at + 1);
        }
        String zkUser = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            for (String kv : rest.substring(q + 1).split("&")) {
                if (kv.startsWith("zk_user=") && !direct && kv.length() > "zk_user=".length()) {
                    zkUser = kv.substring("zk_user=".length());
                } else if (!kv.isBlank()) {
                    throw new IllegalArgumentException("unknown option '" + kv + "' in " + s + " (openmldb:// takes zk_user=USER)");
                }
            }
            rest = rest.substring(0, q);
        }
        if (direct) {
            checkHostPort(rest, s);
            return new Spec(user, List.of(), null, rest, null);
        }
        String root = "/openmldb";
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            root = rest.substring(slash);
            rest = rest.substring(0, slash);
            if (root.length() < 2 || root.endsWith("/")) {
                throw new IllegalArgumentException("'" + root + "' in " + s + " is not a ZooKeeper path like /openmldb");
            }
        }
        List<String> zk = Arrays.stream(rest.split(",")).map(String::strip).toList();
        zk.forEach(h -> checkHostPort(h, s));
        return new Spec(user, zk, root, null, zkUser);
    }

    private static void checkHostPort(String hp, String spec) {
        int colon = hp.lastIndexOf(':');
        if (hp.isEmpty() || colon <= 0 || !hp.substring(colon + 1).matches("\\d{1,5}")) {
            throw new IllegalArgumentException("'" + hp + "' in " + spec + " is not HOST:PORT");
        }
    }

    @Override
    public Optional<SecretSource.Request> secret(ConnectionSpec spec) {
        Spec s = (Spec) spec;
        return s.userName() == null ? Optional.empty()
                : Optional.of(new SecretSource.Request(PASSWORD_VARIABLE, "Password of " + s.userName() + " on " + s.text()));
    }

    @Override
    public ClusterConnector open(ConnectionSpec spec, OpenOptions options) throws ConnectorException {
        Spec s = (Spec) spec;
        char[] password = null;
        if (s.userName() != null) {
            password = options.secrets().secret(secret(spec).orElseThrow()).orElseThrow(() -> new ConnectorException(Engine.OPENMLDB,
                    "connect", "no password for " + s.userName() + ": set " + PASSWORD_VARIABLE + " or enter it when asked"));
        }
        String digest = null;
        if (s.zkUser() != null) {
            char[] zkPassword = options.secrets().secret(new SecretSource.Request(ZK_PASSWORD_VARIABLE, "ZooKeeper password of "
                    + s.zkUser() + " (--zk_cert)")).orElseThrow(() -> new ConnectorException(Engine.OPENMLDB, "connect",
                    "no ZooKeeper password for " + s.zkUser() + ": set " + ZK_PASSWORD_VARIABLE + " or enter it when asked"));
            digest = s.zkUser() + ":" + new String(zkPassword);
            Arrays.fill(zkPassword, '\0');
        }
        OpenMldbLeader leader = s.nameserver() == null ? new OpenMldbLeader(String.join(",", s.zookeeper()), s.root(), digest) : null;
        OpenMldbRpc rpc = new OpenMldbRpc(leader != null ? leader::endpoint : () -> s.nameserver(), s.userName(), password);
        if (password != null) {
            Arrays.fill(password, '\0');
        }
        try {
            return new OpenMldbConnector(s.text(), rpc, leader != null ? leader : () -> {
            });
        } catch (ConnectorException | RuntimeException e) {
            rpc.close();
            if (leader != null) {
                leader.close();
            }
            throw e;
        }
    }

    @Override
    public EngineCapabilities capabilities() {
        return EngineCapabilities.openmldb();
    }

    @Override
    public ConnectionForm form() {
        return new ConnectionForm(List.of(
                ConnectionForm.Field.of("zookeeper", "ZooKeeper", ConnectionForm.Kind.HOST_LIST, "127.0.0.1:2181",
                        "the cluster's --zk_cluster, HOST:PORT comma-separated (empty: give a nameserver below)", false),
                ConnectionForm.Field.of("root", "Root path", ConnectionForm.Kind.TEXT, "/openmldb", "the cluster's --zk_root_path", false),
                ConnectionForm.Field.of("zk_user", "ZooKeeper user", ConnectionForm.Kind.USER, "",
                        "where the cluster sets --zk_cert=USER:PASSWORD (the password from " + ZK_PASSWORD_VARIABLE + " or a prompt)", false),
                ConnectionForm.Field.of("nameserver", "Nameserver", ConnectionForm.Kind.HOST_LIST, "",
                        "one nameserver HOST:PORT, for a cluster without ZooKeeper", false),
                ConnectionForm.Field.of("user", "User", ConnectionForm.Kind.USER, "", "empty: the built-in service token", false),
                ConnectionForm.Field.of("password", "Password", ConnectionForm.Kind.SECRET, "", "kept in memory only; or set "
                        + PASSWORD_VARIABLE, false)));
    }

    @Override
    public String specFrom(Map<String, String> values) {
        String zk = ConnectionForm.value(values, "zookeeper").replace(" ", "");
        String ns = ConnectionForm.value(values, "nameserver").replace(" ", "");
        String user = ConnectionForm.value(values, "user");
        String u = user.isEmpty() ? "" : user + "@";
        if (zk.isEmpty() && ns.isEmpty()) {
            throw new IllegalArgumentException("ZooKeeper: give the cluster's ZooKeeper, or one nameserver");
        }
        if (!ns.isEmpty()) {
            return parse("openmldb+ns://" + u + ns).text();
        }
        String root = ConnectionForm.value(values, "root");
        String zkUser = ConnectionForm.value(values, "zk_user");
        return parse("openmldb://" + u + zk + (root.isEmpty() ? "" : root.startsWith("/") ? root : "/" + root)
                + (zkUser.isEmpty() ? "" : "?zk_user=" + zkUser)).text();
    }
}
