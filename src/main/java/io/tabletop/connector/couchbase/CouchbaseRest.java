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
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * ns_server's REST API over OkHttp (research/couchbase.md §1.0): HTTP Basic on every call, form-encoded
 * POSTs, any node answers. The hosts are tried in order, starting from the last one that answered; a host
 * that cannot be reached is skipped, an HTTP error is not (every node would say the same). TLS trusts the
 * given CA file (else the system's CAs) and verifies host names.
 *
 * <p>The password is held only as the Basic header value, in memory; no message, log line or exception
 * built here contains it. Thread-safe.
 */
final class CouchbaseRest {
    private static final Logger LOG = Logger.getLogger(CouchbaseRest.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> hosts;
    private final boolean tls;
    private final String user;
    private final String authorization;
    private final OkHttpClient client;
    private volatile int preferred;

    /** A reply: the status and the body as text. */
    record Reply(int code, String body) {
        boolean ok() {
            return code / 100 == 2;
        }
    }

    CouchbaseRest(List<String> hosts, boolean tls, Path caFile, String user, char[] password) throws ConnectorException {
        this.hosts = List.copyOf(hosts);
        this.tls = tls;
        this.user = user;
        this.authorization = Credentials.basic(user, new String(password), StandardCharsets.UTF_8);
        OkHttpClient.Builder b = new OkHttpClient.Builder()
                .connectTimeout(Duration.ofSeconds(3)).readTimeout(Duration.ofSeconds(10)).writeTimeout(Duration.ofSeconds(10))
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
        int start = preferred;
        for (int k = 0; k < hosts.size(); k++) {
            int i = (start + k) % hosts.size();
            String url = (tls ? "https://" : "http://") + hosts.get(i) + path;
            Request.Builder rb = new Request.Builder().url(url).header("Authorization", authorization)
                    // without it a 401 carries WWW-Authenticate, which some clients answer with a prompt (§1.0)
                    .header("invalid-auth-response", "on");
            rb = form == null ? rb.get() : rb.post(form);
            try (Response resp = client.newCall(rb.build()).execute()) {
                preferred = i;
                String body = resp.body() == null ? "" : io.tabletop.connector.Bounded.text(resp.body().byteStream());
                return new Reply(resp.code(), body);
            } catch (SSLPeerUnverifiedException e) {
                throw new ConnectorException(Engine.COUCHBASE, what, hosts.get(i) + ": the server's certificate does not name this host ("
                        + e.getMessage() + ")", ConnectorException.Kind.REFUSED, e);
            } catch (SSLHandshakeException e) {
                throw new ConnectorException(Engine.COUCHBASE, what, hosts.get(i) + ": TLS handshake failed; the server's certificate "
                        + "is not signed by a trusted CA (give the cluster's CA file)", ConnectorException.Kind.REFUSED, e);
            } catch (ConnectException | SocketTimeoutException | UnknownHostException e) {
                last = e;
                why += (why.isEmpty() ? "" : "; ") + hosts.get(i) + ": " + describe(e);
                LOG.fine(() -> "cannot reach " + url + ": " + e);
            } catch (IOException e) {
                last = e;
                why += (why.isEmpty() ? "" : "; ") + hosts.get(i) + ": " + describe(e);
            }
        }
        throw new ConnectorException(Engine.COUCHBASE, what, "no node answered (" + why + ")", true, last);
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
