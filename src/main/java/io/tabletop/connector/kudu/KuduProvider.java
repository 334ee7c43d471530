package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectionForm;
import io.tabletop.connector.ConnectionSpec;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.LocalClusters;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Apache Kudu: {@code kudu://HOST:PORT[,HOST:PORT...][?web=HOST:PORT[,...]][&ca=FILE]}, the masters' RPC
 * addresses as the {@code kudu} CLI takes them. The masters' web addresses come from {@code web=}, else
 * from a recorded local cluster with those masters, else from the masters themselves ({@code kudu master
 * list}); TLS web UIs are found, and verified against {@code ca=} or the system's CAs. No secret: a
 * Kerberized cluster is reached with the operator's ticket cache ({@link KuduKerberos}).
 */
public final class KuduProvider implements EngineProvider {
    private final Path home;
    private final KuduLocalClusters local;

    /** @param home Tabletop's data directory: the unpacked kudu-binary and the local clusters live under it */
    public KuduProvider(Path home) {
        this.home = home;
        this.local = new KuduLocalClusters(home);
    }

    /**
     * A parsed Kudu spec: the master RPC addresses and, if given, their web addresses, and the CA file
     * their TLS web UIs are verified with (null: the system's CAs), and {@code cliMoves}: replica moves and
     * leader transfers as one {@code kudu} CLI process each ({@code moves=cli}) instead of consensus calls.
     */
    public record Spec(List<String> masters, List<String> web, Path ca, boolean cliMoves) implements ConnectionSpec {
        public Spec {
            masters = List.copyOf(masters);
            web = List.copyOf(web);
        }

        public Spec(List<String> masters, List<String> web, Path ca) {
            this(masters, web, ca, false);
        }

        public Spec(List<String> masters, List<String> web) {
            this(masters, web, null);
        }

        @Override
        public Engine engine() {
            return Engine.KUDU;
        }

        @Override
        public String text() {
            List<String> opts = new ArrayList<>();
            if (!web.isEmpty()) {
                opts.add("web=" + String.join(",", web));
            }
            if (ca != null) {
                opts.add("ca=" + ca);
            }
            if (cliMoves) {
                opts.add("moves=cli");
            }
            return "kudu://" + String.join(",", masters) + (opts.isEmpty() ? "" : "?" + String.join("&", opts));
        }
    }

    @Override
    public Engine engine() {
        return Engine.KUDU;
    }

    @Override
    public String displayName() {
        return "Apache Kudu";
    }

    @Override
    public List<String> schemes() {
        return List.of("kudu");
    }

    @Override
    public String example() {
        return "kudu://HOST:PORT[,HOST:PORT...][?web=HOST:PORT,...][&ca=FILE][&moves=cli]";
    }

    @Override
    public Spec parse(String spec) {
        String s = spec.strip();
        if (!s.toLowerCase(Locale.ROOT).startsWith("kudu://")) {
            throw new IllegalArgumentException("a Kudu connection starts with kudu://, e.g. kudu://10.0.1.29:7051,10.0.1.16:7051");
        }
        String rest = s.substring("kudu://".length());
        String web = null;
        Path ca = null;
        boolean cliMoves = false;
        int q = rest.indexOf('?');
        if (q >= 0) {
            for (String kv : rest.substring(q + 1).split("&")) {
                if (kv.startsWith("web=")) {
                    web = kv.substring(4);
                } else if (kv.startsWith("ca=") && kv.length() > 3) {
                    ca = Path.of(java.net.URLDecoder.decode(kv.substring(3), java.nio.charset.StandardCharsets.UTF_8));
                } else if (kv.equals("moves=cli") || kv.equals("moves=rpc")) {
                    cliMoves = kv.equals("moves=cli");
                } else if (!kv.isBlank()) {
                    throw new IllegalArgumentException("unknown option '" + kv + "' in " + s
                            + " (options: web=HOST:PORT,..., ca=FILE, the CA of TLS web UIs, and moves=cli, one kudu process per move)");
                }
            }
            rest = rest.substring(0, q);
        }
        return new Spec(hostPorts(rest, s), web == null ? List.of() : webList(web, s), ca, cliMoves);
    }

    /** HOST:PORT, or http(s)://HOST:PORT for a web UI whose scheme is known. */
    private static List<String> webList(String list, String spec) {
        List<String> out = new ArrayList<>();
        for (String w : list.split(",")) {
            String t = w.trim();
            String scheme = t.startsWith("https://") ? "https://" : t.startsWith("http://") ? "http://" : "";
            out.add(scheme + hostPorts(t.substring(scheme.length()), spec).get(0));
        }
        return out;
    }

    static List<String> hostPorts(String list, String spec) {
        List<String> out = new ArrayList<>();
        for (String hp : list.split(",")) {
            String t = hp.trim();
            int colon = t.lastIndexOf(':');
            if (t.isEmpty() || colon <= 0 || !t.substring(colon + 1).matches("\\d{1,5}")) {
                throw new IllegalArgumentException("'" + t + "' in " + spec + " is not HOST:PORT");
            }
            out.add(t);
        }
        return out;
    }

    @Override
    public ClusterConnector open(ConnectionSpec spec, OpenOptions options) throws ConnectorException {
        Spec s = (Spec) spec;
        String masters = String.join(",", s.masters());
        Optional<LocalKuduClusters.Recorded> recorded = LocalKuduClusters.byMasters(local.root(), masters);
        if (options.stopLocal() && recorded.isEmpty()) {
            throw new ConnectorException(Engine.KUDU, "connect", "--stop-local: no local cluster with masters " + masters
                    + " is recorded under " + local.root());
        }
        KuduBinary binary = KuduBinary.locate(home.resolve("kudu"));
        List<String> webs;
        Map<String, String> webByRpc = Map.of();
        if (!s.web().isEmpty()) {
            webs = s.web();
        } else if (recorded.isPresent()) {
            webs = List.of(recorded.get().masterWeb().split(","));
        } else {
            webByRpc = webAddresses(new KuduCli(binary, masters));
            webs = List.copyOf(webByRpc.values());
        }
        KuduConnector k = new KuduConnector(masters, webs, binary, options.stopLocal() ? recorded.get() : null, s.ca());
        k.knowMasters(webByRpc);
        if (s.cliMoves()) {
            k.movesThroughCli();
        }
        return k;
    }

    /**
     * The masters' web UIs as the masters themselves report them ({@code kudu master list --columns=
     * rpc-addresses,http-addresses,role}: any ports), the leader's first; a master that does not answer is
     * left out as long as one does.
     */
    static Map<String, String> webAddresses(KuduCli cli) throws ConnectorException {
        KuduCli.Result r = cli.run(30_000, "master", "list", "@MASTERS", "--columns=rpc-addresses,http-addresses,role", "--format=json",
                "--timeout_ms=3000");
        if (!r.ok()) {
            String why = r.error().contains("Connection refused") || r.error().startsWith("Timed out")
                    ? "no master answered at " + cli.masters() + " within 3 s" : r.error();
            throw new ConnectorException(Engine.KUDU, "connect", why, KuduCli.isTransient(r.error()), null);
        }
        Map<String, String> leaders = new LinkedHashMap<>();
        Map<String, String> others = new LinkedHashMap<>();
        try {
            for (JsonNode m : new ObjectMapper().readTree(r.out())) { // once per connection: no mapper made at start-up
                String http = m.path("http-addresses").asText("").split(",")[0].strip();
                String rpc = m.path("rpc-addresses").asText("").split(",")[0].strip();
                if (!http.isEmpty()) {
                    ("LEADER".equals(m.path("role").asText()) ? leaders : others).put(rpc, http);
                }
            }
        } catch (java.io.IOException e) {
            throw new ConnectorException(Engine.KUDU, "connect", "kudu master list did not answer JSON", true, e);
        }
        leaders.putAll(others);
        if (leaders.isEmpty()) {
            throw new ConnectorException(Engine.KUDU, "connect", "the masters report no web UI; give them: kudu://" + cli.masters()
                    + "?web=HOST:PORT[,...]");
        }
        return leaders;
    }

    @Override
    public EngineCapabilities capabilities() {
        return EngineCapabilities.kudu();
    }

    @Override
    public ConnectionForm form() {
        return new ConnectionForm(List.of(
                ConnectionForm.Field.of("masters", "Masters", ConnectionForm.Kind.HOST_LIST, "127.0.0.1:7051",
                        "the masters' RPC addresses, as the kudu CLI takes them: HOST:7051,HOST:7051,HOST:7051", true),
                ConnectionForm.Field.of("web", "Web UIs", ConnectionForm.Kind.HOST_LIST, "",
                        "the masters' web addresses (optional: the masters report them)", false),
                ConnectionForm.Field.of("ca", "Web UI CA", ConnectionForm.Kind.FILE, "",
                        "the CA certificate (PEM) of TLS web UIs; empty: the system's CAs. Kerberos: kinit first", false)));
    }

    @Override
    public String specFrom(Map<String, String> values) {
        String masters = ConnectionForm.value(values, "masters");
        if (masters.isEmpty()) {
            throw new IllegalArgumentException("Masters: give at least one HOST:PORT");
        }
        String web = ConnectionForm.value(values, "web");
        String ca = ConnectionForm.value(values, "ca");
        List<String> opts = new ArrayList<>();
        if (!web.isEmpty()) {
            opts.add("web=" + web.replace(" ", ""));
        }
        if (!ca.isEmpty()) {
            opts.add("ca=" + ca);
        }
        return parse("kudu://" + masters.replace(" ", "") + (opts.isEmpty() ? "" : "?" + String.join("&", opts))).text();
    }

    @Override
    public Optional<LocalClusters> localClusters() {
        return Optional.of(local);
    }
}
