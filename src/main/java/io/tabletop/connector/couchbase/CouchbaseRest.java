package io.tabletop.connector.couchbase;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.TlsTrust;
import io.tabletop.domain.Engine;
import okhttp3.Credentials;
import okhttp3.FormBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * ns_server's REST API over OkHttp (src/docs/couchbase.md, "What Tabletop relies on"): HTTP Basic on every
 * call, form-encoded POSTs, any member answers for the whole cluster.
 *
 * <p>The hosts tried are the spec's and the members learned from {@code /pools/default} ({@link #learn}),
 * starting from the last one that answered. A host that cannot be reached is skipped. So is a host that
 * answers as no member of this cluster does: 401 (a node ejected by a rebalance restarts uninitialised on
 * the same port and has no admin users any more), 404 "unknown pool" (not provisioned) or 404 "Cluster
 * uuid does not match" (another cluster now); a host used for the first time has its {@code /pools} uuid
 * checked against the cluster's. Only when every known host refuses is the refusal the answer (every 401:
 * the credentials are wrong). Other HTTP errors are the cluster's answer (any member would say the same).
 * TLS trusts the given CA file (else the system's CAs) and verifies host names.
 *
 * <p>The read timeout (10 s) is longer than the server-side wait Tabletop asks the tasks endpoint for
 * ({@link #TASKS_WAIT_MILLIS}), so a slow rebalance observer is a stale answer, not a dead host.
 *
 * <p>The password is held only as the Basic header value, in memory; no message, log line or exception
 * built here contains it. Thread-safe.
 */
final class CouchbaseRest {
    private static final Logger LOG = Logger.getLogger(CouchbaseRest.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The HTTP read timeout. */
    static final long READ_TIMEOUT_MILLIS = 10_000;
    /** What the tasks endpoint is asked to wait for the rebalance observer at most (its default is 10 s). */
    static final long TASKS_WAIT_MILLIS = 4_000;

    private final List<String> typed;
    private final boolean tls;
    private final String user;
    private final String authorization;
    private final OkHttpClient client;
    /** Every host to try: the learned members first, then the spec's hosts that are not among them. */
    private volatile List<String> hosts;
    private volatile List<String> members = List.of();
    private volatile String preferred;
    private volatile String expectedUuid;
    /** Hosts whose {@code /pools} uuid was seen to be the cluster's. */
    private final Set<String> verified = ConcurrentHashMap.newKeySet();

    /** A reply: the status and the body as text. */
    record Reply(int code, String body) {
        boolean ok() {
            return code / 100 == 2;
        }

        /** An answer no member of the cluster gives: the host is not (or no longer) one of them. */
        boolean notAMember() {
            return code == 401 || (code == 404 && (body.contains("unknown pool") || body.contains("uuid does not match")));
        }
    }

    CouchbaseRest(List<String> hosts, boolean tls, Path caFile, String user, char[] password) throws ConnectorException {
        this.typed = List.copyOf(hosts);
        this.hosts = this.typed;
        this.preferred = this.typed.get(0);
        this.tls = tls;
        this.user = user;
        this.authorization = Credentials.basic(user, new String(password), StandardCharsets.UTF_8);
        OkHttpClient.Builder b = new OkHttpClient.Builder()
                .connectTimeout(Duration.ofSeconds(3)).readTimeout(Duration.ofMillis(READ_TIMEOUT_MILLIS)).writeTimeout(Duration.ofSeconds(10))
                .retryOnConnectionFailure(false);
        if (tls && caFile != null) {
            TlsTrust.Trust t = TlsTrust.of(Engine.COUCHBASE, caFile);
            b.sslSocketFactory(t.factory(), t.manager());
        }
        this.client = b.build();
    }

    String user() {
        return user;
    }

    /** From now on a host is used only once its {@code /pools} names this uuid. */
    void expectUuid(String uuid) {
        this.expectedUuid = uuid;
        if (preferred != null) {
            verified.add(preferred);
        }
    }

    /**
     * The members' REST addresses from {@code /pools/default}: each node's {@code hostname} (host and REST
     * port), or with TLS its host and {@code ports.httpsMgmt}. Nodes being ejected are kept, last.
     */
    void learn(JsonNode poolsDefault) {
        List<String> found = new ArrayList<>();
        for (JsonNode n : poolsDefault.path("nodes")) {
            String hostname = n.path("hostname").asText("");
            if (hostname.isEmpty()) {
                continue;
            }
            String address = hostname;
            if (tls) {
                int https = n.path("ports").path("httpsMgmt").asInt(0);
                address = https > 0 ? CouchbaseTopology.host(hostname) + ":" + https : null;
            }
            if (address != null && !found.contains(address)) {
                found.add(address);
            }
        }
        if (found.isEmpty() || found.equals(members)) {
            return;
        }
        members = List.copyOf(found);
        List<String> all = new ArrayList<>(found);
        typed.stream().filter(h -> !all.contains(h)).forEach(all::add);
        hosts = List.copyOf(all);
    }

    /** The members learned so far (addresses only). */
    List<String> members() {
        return members;
    }

    /** The host the last answer came from. */
    String current() {
        return preferred;
    }

    /**
     * Stops talking through these members (nodes about to be ejected): the next call starts at the first
     * known host that is not one of them.
     */
    void avoid(Set<String> addresses) {
        if (!addresses.contains(preferred)) {
            return;
        }
        for (String h : hosts) {
            if (!addresses.contains(h)) {
                preferred = h;
                return;
            }
        }
    }

    /** The REST address of a node of {@code /pools/default}, as {@link #learn} computes it. */
    String address(JsonNode node) {
        String hostname = node.path("hostname").asText("");
        return tls ? CouchbaseTopology.host(hostname) + ":" + node.path("ports").path("httpsMgmt").asInt(18091) : hostname;
    }

    /** GET, parsed as JSON; a non-2xx status is an error with the server's own words. */
    JsonNode getJson(String path) throws ConnectorException {
        Reply r = call("GET " + path, path, null);
        if (!r.ok()) {
            throw httpError("GET " + path, r);
        }
        return parse(r.body(), path);
    }

    /** An answer's body as JSON; one that is not (truncated, HTML, a nesting bomb) is an error naming the path. */
    static JsonNode parse(String body, String path) throws ConnectorException {
        try {
            return JSON.readTree(body.isEmpty() ? "null" : body);
        } catch (IOException e) {
            throw new ConnectorException(Engine.COUCHBASE, "GET " + path, "the answer is not JSON (" + abbreviate(body) + ")", true, e);
        }
    }

    /** POST of a form; the reply whatever its status (the caller reads ns_server's error bodies). */
    Reply post(String path, Map<String, String> form) throws ConnectorException {
        FormBody.Builder f = new FormBody.Builder();
        form.forEach(f::add);
        return call("POST " + path, path, f.build());
    }

    /** POST of a form whose parameter repeats ({@code otpNode=a&otpNode=b}, as the failover endpoints take it). */
    Reply postRepeated(String path, String name, List<String> values) throws ConnectorException {
        FormBody.Builder f = new FormBody.Builder();
        values.forEach(v -> f.add(name, v));
        return call("POST " + path, path, f.build());
    }

    private Reply call(String what, String path, FormBody form) throws ConnectorException {
        String why = "";
        IOException last = null;
        Reply refused = null;
        List<String> list = hosts;
        int start = Math.max(0, list.indexOf(preferred));
        for (int k = 0; k < list.size(); k++) {
            String host = list.get((start + k) % list.size());
            try {
                String uuid = expectedUuid;
                if (uuid != null && !verified.contains(host) && !path.equals("/pools")) {
                    Reply pools = once(host, "/pools", null);
                    String seen = pools.ok() ? uuidOf(pools.body()) : "";
                    if (!uuid.equals(seen)) {
                        LOG.fine(() -> host + " is not a member of cluster " + uuid + " (HTTP " + pools.code() + ")");
                        refused = refused == null ? (pools.ok() ? new Reply(404, "Cluster uuid does not match the requested.") : pools) : refused;
                        why += (why.isEmpty() ? "" : "; ") + host + ": " + (pools.ok() ? "another cluster" : "HTTP " + pools.code());
                        continue;
                    }
                    verified.add(host);
                }
                Reply r = once(host, path, form);
                if (r.notAMember()) {
                    verified.remove(host);
                    refused = refused == null ? r : refused;
                    why += (why.isEmpty() ? "" : "; ") + host + ": HTTP " + r.code();
                    LOG.fine(() -> host + " answers " + r.code() + " to " + what + ": trying the next member");
                    continue;
                }
                preferred = host;
                return r;
            } catch (SSLPeerUnverifiedException e) {
                throw new ConnectorException(Engine.COUCHBASE, what, host + ": the server's certificate does not name this host ("
                        + e.getMessage() + ")", ConnectorException.Kind.REFUSED, e);
            } catch (SSLHandshakeException e) {
                throw new ConnectorException(Engine.COUCHBASE, what, host + ": TLS handshake failed; the server's certificate "
                        + "is not signed by a trusted CA (give the cluster's CA file)", ConnectorException.Kind.REFUSED, e);
            } catch (IOException e) {
                last = e;
                why += (why.isEmpty() ? "" : "; ") + host + ": " + describe(e);
                LOG.fine(() -> "cannot reach " + host + ": " + e);
            }
        }
        if (refused != null) {
            return refused; // every host that answered refused: that is the answer (all 401: wrong credentials)
        }
        throw new ConnectorException(Engine.COUCHBASE, what, "no node answered (" + why + ")", true, last);
    }

    private Reply once(String host, String path, FormBody form) throws IOException {
        String url = (tls ? "https://" : "http://") + host + path;
        Request.Builder rb = new Request.Builder().url(url).header("Authorization", authorization)
                // without it a 401 carries WWW-Authenticate, which some clients answer with a prompt (menelaus_util.erl:579-587)
                .header("invalid-auth-response", "on");
        rb = form == null ? rb.get() : rb.post(form);
        try (Response resp = client.newCall(rb.build()).execute()) {
            String body = resp.body() == null ? "" : io.tabletop.connector.Bounded.text(resp.body().byteStream());
            return new Reply(resp.code(), body);
        }
    }

    private static String uuidOf(String body) {
        try {
            return JSON.readTree(body).path("uuid").asText("");
        } catch (IOException e) {
            return "";
        }
    }

    private static String describe(IOException e) {
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        if (e instanceof SocketTimeoutException) {
            return "timed out";
        }
        if (e instanceof UnknownHostException) {
            return "unknown host";
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
    }

    /** ns_server's errors in one line: 401 and 403 said plainly, others with the body's own words. */
    ConnectorException httpError(String what, Reply r) {
        return switch (r.code()) {
            case 401 -> new ConnectorException(Engine.COUCHBASE, what, "wrong user name or password for '" + user + "' (HTTP 401)",
                    ConnectorException.Kind.REFUSED, null);
            case 403 -> new ConnectorException(Engine.COUCHBASE, what, "'" + user + "' lacks the permission for this ("
                    + permissions(r.body()) + ", HTTP 403)", ConnectorException.Kind.REFUSED, null);
            default -> new ConnectorException(Engine.COUCHBASE, what, "HTTP " + r.code() + (r.body().isBlank() ? "" : ": " + abbreviate(r.body())),
                    r.code() >= 500 ? ConnectorException.Kind.TRANSIENT : ConnectorException.Kind.REFUSED, null);
        };
    }

    private static String permissions(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            if (n.path("permissions").isArray()) {
                StringBuilder sb = new StringBuilder("needs ");
                n.path("permissions").forEach(p -> sb.append(sb.length() > 6 ? ", " : "").append(p.asText()));
                return sb.toString();
            }
        } catch (IOException e) {
            // not JSON: say what it says
        }
        return abbreviate(body);
    }

    static String abbreviate(String s) {
        String t = s.strip().replace('\r', ' ').replace('\n', ' ');
        return t.length() > 160 ? t.substring(0, 160) + "…" : t;
    }

    void close() {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}
