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
import java.util.Map;
import java.util.logging.Logger;

/**
 * ns_server's REST API over OkHttp (src/docs/couchbase.md, "What Tabletop relies on"): HTTP Basic on every
 * call, form-encoded POSTs, any member answers for the whole cluster.
 *
 * <p>The hosts tried are the spec's and the members learned from {@code /pools/default} ({@link #learn}),
 * starting from the last one that answered. The cluster's uuid is the first one a host's {@code /pools}
 * names ({@link #clusterUuid}); from then on every request carries {@code ?uuid=}, which ns_server checks
 * on every call before anything else (menelaus_web.erl:1307, :1331-1346): a node that left the cluster
 * (its uuid is empty now) or joined another answers 404 "Cluster uuid does not match the requested." to
 * everything, so no answer is ever taken from a host that is not a member now. Such a host is skipped, as
 * is one that cannot be reached, one whose TLS handshake fails (a node that left generated a new
 * self-signed certificate), one answering 404 "unknown pool" or 401. Only when every known host refuses
 * is the refusal the answer (every 401: the credentials are wrong). Other HTTP errors are the cluster's
 * answer (any member would say the same). TLS trusts the given CA file (else the system's CAs) and
 * verifies host names.
 *
 * <p>A POST is sent to another host only when it cannot have reached the first one (no connection): once
 * its request may have been delivered, a lost answer is {@link AnswerLost}, for the caller to find out
 * from the cluster what happened, never a second POST.
 *
 * <p>The tasks endpoint is read with a longer timeout ({@link #TASKS_READ_TIMEOUT_MILLIS}) than other
 * calls: the server-side wait asked for ({@link #TASKS_WAIT_MILLIS}) bounds only one of its three
 * observer calls, the other two wait up to 10 s each (rebalance.erl:109-114, ns_doctor.erl:832-837).
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
    /**
     * The tasks call's read timeout: {@link #TASKS_WAIT_MILLIS} for the aggregated progress, plus the
     * detailed progress and the rebalance info, each at the observer's default 10 s (ns_doctor.erl:832-837,
     * ns_rebalance_observer.erl:99-100), plus a margin.
     */
    static final long TASKS_READ_TIMEOUT_MILLIS = TASKS_WAIT_MILLIS + 2 * 10_000 + 6_000;

    private final List<String> typed;
    private final boolean tls;
    private final String user;
    private final String authorization;
    private final OkHttpClient client;
    private final OkHttpClient tasksClient;
    /** Every host to try: the learned members first, then the spec's hosts that are not among them. */
    private volatile List<String> hosts;
    private volatile List<String> members = List.of();
    private volatile String preferred;
    private volatile String expectedUuid;

    /**
     * A POST whose request may have reached the host and whose answer did not come back (read timeout,
     * connection closed): it may have been carried out, so it is not sent again anywhere.
     */
    static final class AnswerLost extends ConnectorException {
        AnswerLost(String what, String host, IOException cause) {
            super(Engine.COUCHBASE, what, host + " took the request and its answer was lost (" + describe(cause) + ")",
                    ConnectorException.Kind.TRANSIENT, cause);
        }
    }

    /** A reply: the status and the body as text. */
    record Reply(int code, String body) {
        boolean ok() {
            return code / 100 == 2;
        }

        /** An answer no member of the cluster gives: the host is not (or no longer) one of them. */
        boolean notAMember() {
            return code == 401 || (code == 404 && (body.contains("unknown pool") || body.contains("uuid does not match")));
        }

        /** 404 "Cluster uuid does not match the requested.": a node of no cluster or of another one now. */
        boolean otherCluster() {
            return code == 404 && body.contains("uuid does not match");
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
        this.tasksClient = client.newBuilder().readTimeout(Duration.ofMillis(TASKS_READ_TIMEOUT_MILLIS)).build();
    }

    String user() {
        return user;
    }

    /**
     * The cluster's uuid: the first host (from the last one that answered) whose {@code /pools} names one
     * ({@code "uuid":[]} on a node that is part of no cluster: menelaus_web_pools.erl:73-88). From then on
     * every request carries it. Hosts that answer without one, cannot be reached, or fail the TLS handshake
     * are skipped; when none names a uuid, one line says what each host said.
     */
    String clusterUuid() throws ConnectorException {
        String why = "";
        Reply refused = null;
        boolean allTls = true;
        int answered = 0;
        Exception last = null;
        List<String> list = hosts;
        int start = Math.max(0, list.indexOf(preferred));
        for (int k = 0; k < list.size(); k++) {
            String host = list.get((start + k) % list.size());
            try {
                Reply r = once(host, "/pools", null);
                allTls = false;
                answered++;
                String uuid = r.ok() ? uuidOf(r.body()) : "";
                if (!uuid.isEmpty()) {
                    preferred = host;
                    expectedUuid = uuid;
                    return uuid;
                }
                if (!r.ok()) {
                    refused = refused == null ? r : refused;
                }
                why += (why.isEmpty() ? "" : "; ") + host + ": " + (r.ok() ? "part of no cluster (no uuid in /pools)" : "HTTP " + r.code());
            } catch (javax.net.ssl.SSLException e) {
                last = e;
                why += (why.isEmpty() ? "" : "; ") + host + ": " + tlsWhy(e);
            } catch (IOException e) {
                last = e;
                allTls = false;
                why += (why.isEmpty() ? "" : "; ") + host + ": " + describe(e);
            }
        }
        if (refused != null && refused.code() == 401) {
            throw httpError("connect", refused);
        }
        if (last == null && refused == null && list.size() == 1) {
            throw new ConnectorException(Engine.COUCHBASE, "connect", "the server answers but is not part of a cluster yet (no uuid in /pools)");
        }
        if (last != null && allTls) {
            throw new ConnectorException(Engine.COUCHBASE, "connect", why, ConnectorException.Kind.REFUSED, last);
        }
        boolean noneAnswered = answered == 0 && !allTls;
        throw new ConnectorException(Engine.COUCHBASE, "connect", (noneAnswered ? "no node answered (" : "no node answers as a member of a "
                + "cluster (") + why + ")", noneAnswered, last);
    }

    private static String tlsWhy(javax.net.ssl.SSLException e) {
        return e instanceof SSLPeerUnverifiedException ? "the server's certificate does not name this host (" + e.getMessage() + ")"
                : "TLS handshake failed; the server's certificate is not signed by a trusted CA (give the cluster's CA file; "
                + "a node that left its cluster has a new self-signed one)";
    }

    /** The path with the cluster's {@code uuid} added, once it is known. */
    private String withUuid(String path) {
        String uuid = expectedUuid;
        if (uuid == null || path.contains("uuid=")) {
            return path;
        }
        return path + (path.contains("?") ? "&" : "?") + "uuid=" + uuid;
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
     * Stops talking through these nodes (about to be ejected), known by their otpNode, however their
     * address was spelled: a host is one of them when its own entry in its {@code /pools/default} (the one
     * with {@code thisNode}: menelaus_web_node.erl:700) names one of them. The next call starts at the
     * first known host that is a member and none of them.
     */
    void avoid(Set<String> otpNodes) {
        if (otpNodes.isEmpty()) {
            return;
        }
        List<String> list = hosts;
        int start = Math.max(0, list.indexOf(preferred));
        for (int k = 0; k < list.size(); k++) {
            String host = list.get((start + k) % list.size());
            String self = selfOf(host);
            if (self != null && !otpNodes.contains(self)) {
                preferred = host;
                return;
            }
        }
    }

    /** The otpNode a host says it is, or null when it does not answer as a member of this cluster. */
    private String selfOf(String host) {
        try {
            Reply r = once(host, withUuid("/pools/default"), null);
            if (!r.ok()) {
                return null;
            }
            for (JsonNode n : JSON.readTree(r.body()).path("nodes")) {
                if (n.path("thisNode").asBoolean(false)) {
                    return n.path("otpNode").asText("");
                }
            }
        } catch (IOException e) {
            LOG.fine(() -> "cannot ask " + host + " who it is: " + e);
        }
        return null;
    }

    /** The REST address of a node of {@code /pools/default}, as {@link #learn} computes it. */
    String address(JsonNode node) {
        String hostname = node.path("hostname").asText("");
        return tls ? CouchbaseTopology.host(hostname) + ":" + node.path("ports").path("httpsMgmt").asInt(18091) : hostname;
    }

    /** GET; the reply whatever its status. */
    Reply get(String path) throws ConnectorException {
        return call("GET " + path, path, null);
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

    private Reply call(String what, String path0, FormBody form) throws ConnectorException {
        String why = "";
        IOException last = null;
        Reply refused = null;
        String path = withUuid(path0);
        List<String> list = hosts;
        int start = Math.max(0, list.indexOf(preferred));
        String tlsWhy = null;
        int tlsFailed = 0;
        for (int k = 0; k < list.size(); k++) {
            String host = list.get((start + k) % list.size());
            Sent sent = new Sent();
            try {
                Reply r = once(host, path, form, sent);
                if (r.notAMember()) {
                    refused = refused == null || refused.code() == 404 && r.code() == 401 ? r : refused;
                    why += (why.isEmpty() ? "" : "; ") + host + ": HTTP " + r.code();
                    LOG.fine(() -> host + " answers " + r.code() + " to " + what + ": trying the next member");
                    continue;
                }
                preferred = host;
                return r;
            } catch (SSLPeerUnverifiedException | SSLHandshakeException e) {
                // not a member now (a node that left has a new self-signed certificate), or not the cluster's CA
                tlsWhy = tlsWhy == null ? host + ": " + tlsWhy(e) : tlsWhy;
                tlsFailed++;
                last = e;
                why += (why.isEmpty() ? "" : "; ") + host + ": TLS handshake failed";
                LOG.fine(() -> "TLS with " + host + " failed: " + e);
            } catch (IOException e) {
                if (form != null && sent.request) {
                    throw new AnswerLost(what, host, e); // it may have been carried out: never sent again elsewhere
                }
                last = e;
                why += (why.isEmpty() ? "" : "; ") + host + ": " + describe(e);
                LOG.fine(() -> "cannot reach " + host + ": " + e);
            }
        }
        if (refused != null && refused.otherCluster()) {
            throw new ConnectorException(Engine.COUCHBASE, what, "no known node answers as a member of cluster " + expectedUuid
                    + " now (" + why + "): give the address of a node that is", ConnectorException.Kind.REFUSED, null);
        }
        if (refused != null) {
            return refused; // every host that answered refused: that is the answer (all 401: wrong credentials)
        }
        if (tlsWhy != null && tlsFailed == list.size()) {
            throw new ConnectorException(Engine.COUCHBASE, what, tlsWhy, ConnectorException.Kind.REFUSED, last);
        }
        throw new ConnectorException(Engine.COUCHBASE, what, "no node answered (" + why + ")", true, last);
    }

    /** Whether a call's request went out (its headers started on a connection). */
    private static final class Sent {
        volatile boolean request;
    }

    private Reply once(String host, String path, FormBody form) throws IOException {
        return once(host, path, form, new Sent());
    }

    private Reply once(String host, String path, FormBody form, Sent sent) throws IOException {
        String url = (tls ? "https://" : "http://") + host + path;
        Request.Builder rb = new Request.Builder().url(url).header("Authorization", authorization)
                // without it a 401 carries WWW-Authenticate, which some clients answer with a prompt (menelaus_util.erl:579-587)
                .header("invalid-auth-response", "on");
        rb = form == null ? rb.get() : rb.post(form);
        OkHttpClient c = path.startsWith("/pools/default/tasks") ? tasksClient : client;
        if (form != null) {
            c = c.newBuilder().eventListener(new okhttp3.EventListener() {
                @Override
                public void requestHeadersStart(okhttp3.Call call) {
                    sent.request = true;
                }
            }).build();
        }
        try (Response resp = c.newCall(rb.build()).execute()) {
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
