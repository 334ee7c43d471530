package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;
import okhttp3.ConnectionSpec;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.nio.file.Path;
import io.tabletop.connector.TlsTrust;

/**
 * Reads the masters' web endpoints (OkHttp + Jackson): {@code /dump-entities} is the cluster's topology
 * in one 16 ms call. Tries each master in turn; followers answer too. Thread-safe.
 */
public final class KuduMasterHttp {
    /** Made at the first parse, not when the connection opens: the first reads start before Jackson's set-up. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }
    /**
     * The shared plain-HTTP client, built at the first request. It speaks cleartext only, so that building it
     * does not set up TLS (OkHttp builds the platform's trust manager and socket factory for any client
     * that may speak TLS: about 350 classes and 0.3 s before the first read of a plain web UI).
     */
    private static final class Base {
        static final OkHttpClient CLEARTEXT = new OkHttpClient.Builder().connectionSpecs(List.of(ConnectionSpec.CLEARTEXT))
                .connectTimeout(Duration.ofSeconds(3)).readTimeout(Duration.ofSeconds(10)).build();
    }

    /** The shared client for https web UIs, with the system's CAs; built at the first https request. */
    private static final class Tls {
        static final OkHttpClient CLIENT = new OkHttpClient.Builder()
                .connectTimeout(Duration.ofSeconds(3)).readTimeout(Duration.ofSeconds(10)).build();
    }

    private static OkHttpClient shared(String url) {
        return url.startsWith("https://") ? Tls.CLIENT : Base.CLEARTEXT;
    }

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(KuduMasterHttp.class.getName());
    private final java.util.concurrent.atomic.AtomicBoolean spnegoSaid = new java.util.concurrent.atomic.AtomicBoolean();
    private final List<String> webAddresses;
    /** Built at the first request of each kind ({@link #client(String)}). */
    private volatile OkHttpClient plain;
    private volatile OkHttpClient secure;
    /** A client with the CA's trust to build https clients on, or null for {@link Tls#CLIENT}. */
    private final OkHttpClient base;
    private final KuduKerberos kerberos;
    /** The CA file web UIs are verified with (null: the system's CAs); given, bare addresses are https. */
    private final Path ca;
    /** Bare addresses found to speak TLS (an http request got an empty reply). */
    private final Set<String> tls = ConcurrentHashMap.newKeySet();

    public KuduMasterHttp(List<String> webAddresses) {
        this(webAddresses, KuduKerberos.fromEnvironment());
    }

    public KuduMasterHttp(List<String> webAddresses, KuduKerberos kerberos) {
        this(webAddresses, kerberos, null, null);
    }

    /**
     * Web UIs behind SPNEGO ({@code --webserver_require_spnego}) get a token from the operator's ticket;
     * TLS web UIs ({@code --webserver_certificate_file}) are verified against {@code ca}, or the system's CAs.
     *
     * @param client a client to build on (with the CA's trust), or null
     */
    private KuduMasterHttp(List<String> webAddresses, KuduKerberos kerberos, Path ca, OkHttpClient client) {
        if (webAddresses.isEmpty()) {
            throw new IllegalArgumentException("no master web address");
        }
        this.webAddresses = List.copyOf(webAddresses);
        this.ca = ca;
        this.base = client;
        this.kerberos = kerberos;
    }

    /** The client for {@code url}: cleartext for http, the CA's (or the system's) trust for https; both answer SPNEGO. */
    private OkHttpClient client(String url) {
        boolean https = url.startsWith("https://");
        OkHttpClient c = https ? secure : plain;
        if (c == null) {
            synchronized (this) {
                c = https ? secure : plain;
                if (c == null) {
                    c = (https ? (base == null ? Tls.CLIENT : base) : Base.CLEARTEXT).newBuilder().authenticator((route, response) -> {
                        boolean negotiate = response.headers("WWW-Authenticate").stream().anyMatch(h -> h.startsWith("Negotiate"));
                        if (!negotiate || response.priorResponse() != null) {
                            return null; // not SPNEGO, or our token was refused: the 401 is the answer
                        }
                        if (spnegoSaid.compareAndSet(false, true)) {
                            LOG.info("the web UI at " + response.request().url().host() + ":" + response.request().url().port()
                                    + " asks for Kerberos (SPNEGO): answering with the ticket in " + kerberos.describeCache());
                        }
                        return response.request().newBuilder().header("Authorization", kerberos.negotiate(response.request().url().host())).build();
                    }).build();
                    if (https) {
                        secure = c;
                    } else {
                        plain = c;
                    }
                }
            }
        }
        return c;
    }

    /** As {@link #KuduMasterHttp(List, KuduKerberos)}, TLS web UIs verified against the certificates in {@code ca}. */
    public static KuduMasterHttp withCa(List<String> webAddresses, KuduKerberos kerberos, Path ca) throws ConnectorException {
        OkHttpClient c = null;
        if (ca != null) {
            TlsTrust.Trust t = TlsTrust.of(Engine.KUDU, ca);
            c = Tls.CLIENT.newBuilder().sslSocketFactory(t.factory(), t.manager()).build();
        }
        return new KuduMasterHttp(webAddresses, kerberos, ca, c);
    }

    /** The URL of {@code path} on the web UI at {@code addr}: its own scheme, else https where TLS was given or found. */
    private String url(String addr, String path) {
        if (addr.startsWith("http://") || addr.startsWith("https://")) {
            return addr + path;
        }
        return (ca != null || tls.contains(addr) ? "https://" : "http://") + addr + path;
    }

    public JsonNode dumpEntities() throws ConnectorException {
        return get("/dump-entities");
    }

    /**
     * Whether the server behind the web UI at {@code webAddress} runs: it answers {@code /healthz} at all
     * (a 401 of a SPNEGO-protected UI, or a TLS certificate this client does not trust, count: something answered).
     */
    boolean answers(String webAddress) {
        String url = url(webAddress, "/healthz");
        try (Response r = shared(url).newCall(new Request.Builder().url(url).get().build()).execute()) {
            return true;
        } catch (javax.net.ssl.SSLException e) {
            return true;
        } catch (IOException e) {
            return url.startsWith("http://") && emptyReply(e); // a TLS port answering plain HTTP with nothing
        }
    }

    JsonNode get(String path) throws ConnectorException {
        List<String> whys = new java.util.ArrayList<>();
        for (String addr : webAddresses) {
            try {
                return at(addr, path);
            } catch (IOException e) {
                whys.add(e.getMessage());
            }
        }
        throw new ConnectorException(Engine.KUDU, "read " + path, String.join("; ", whys), true, null);
    }

    /** {@code path} from another server's web UI (a tserver's {@code /metrics}), with the same TLS and Kerberos. */
    JsonNode getFrom(String webAddress, String path) throws ConnectorException {
        try {
            return at(webAddress, path);
        } catch (IOException e) {
            throw new ConnectorException(Engine.KUDU, "read " + path, e.getMessage(), true, e);
        }
    }

    private JsonNode at(String addr, String path) throws IOException, ConnectorException {
        String url = url(addr, path);
        try {
            return read(url, path);
        } catch (IOException e) {
            if (url.startsWith("http://") && !addr.startsWith("http") && emptyReply(e)) {
                // Kudu's web server sends nothing back to plain HTTP on an https port: speak TLS from now on
                tls.add(addr);
                return read(url(addr, path), path);
            }
            throw e;
        }
    }

    /**
     * One GET as JSON. An IOException (its message says why, with the URL) when this master does not serve
     * it and another may; a ConnectorException for what every master would answer alike (TLS trust, Kerberos).
     */
    private JsonNode read(String url, String path) throws IOException, ConnectorException {
        Request req = new Request.Builder().url(url).get().build();
        try (Response r = client(url).newCall(req).execute()) {
            if (r.code() == 401) {
                // SPNEGO refused our token, or the UI wants something else
                throw new ConnectorException(Engine.KUDU, "read " + path, url + " refused the Kerberos ticket in "
                        + "the ticket cache (HTTP 401): run kinit as a user the cluster admits", false, null);
            }
            if (!r.isSuccessful()) {
                throw new IOException(url + " answered HTTP " + r.code());
            }
            String body = r.body() == null ? "" : io.tabletop.connector.Bounded.text(r.body().byteStream());
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new IOException(url + " did not answer JSON (" + e.getClass().getSimpleName() + " at " + abbreviate(body) + ")");
            }
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            throw new ConnectorException(Engine.KUDU, "read " + path, url + ": the web UI's certificate does not name this host ("
                    + e.getMessage() + ")", false, e);
        } catch (javax.net.ssl.SSLHandshakeException e) {
            throw new ConnectorException(Engine.KUDU, "read " + path, url + ": the web UI's certificate does not verify against "
                    + (ca == null ? "the system's CAs; give the cluster's CA file: kudu://MASTERS?ca=FILE" : "the CA file " + ca), false, e);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("Kerberos")) {
                // no ticket: the same at every master, and kinit is the fix
                throw new ConnectorException(Engine.KUDU, "read " + path, e.getMessage(), false, e);
            }
            if (e.getMessage() != null && e.getMessage().startsWith(url)) {
                throw e;
            }
            throw new IOException("cannot reach " + url + ": " + e.getMessage(), e);
        }
    }

    private static boolean emptyReply(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("unexpected end of stream") || m.contains("\\n not found") || e instanceof java.io.EOFException;
    }

    private static String abbreviate(String s) {
        String t = s.strip().replace('\n', ' ');
        return t.length() > 60 ? "'" + t.substring(0, 60) + "…'" : "'" + t + "'";
    }
}
