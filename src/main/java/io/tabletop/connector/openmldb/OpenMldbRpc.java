package io.tabletop.connector.openmldb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * The nameserver's RPCs as brpc serves them over HTTP+JSON (research/openmldb.md §2): {@code POST
 * /NameServer/METHOD} with the request message as JSON and an {@code Authorization} header ({@code sdefault},
 * or {@code u<user>:1<sha256 hex of the password>}), the reply message as JSON with {@code code} and
 * {@code msg}. "nameserver is not leader" (300) finds the leader again and retries with backoff (a new
 * leader answers 300 until it has loaded its metadata). A connection closed without a reply is brpc
 * refusing the credentials. The password is kept only as the header value, in memory. Thread-safe.
 */
final class OpenMldbRpc {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final MediaType TYPE = MediaType.get("application/json");
    private final LeaderLookup leader;
    private final String authorization;
    private final boolean userGiven;
    private final OkHttpClient client = new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(3))
            .readTimeout(Duration.ofSeconds(30)).build(); // a pooled connection to a nameserver that went away is retried on a new one
    private volatile String endpoint;

    /** Where the leader is: ZooKeeper, or the one nameserver given. */
    @FunctionalInterface
    interface LeaderLookup {
        String endpoint() throws ConnectorException;
    }

    OpenMldbRpc(LeaderLookup leader, String user, char[] password) {
        this.leader = leader;
        this.userGiven = user != null;
        this.authorization = user == null ? "sdefault" : "u" + user + ":1" + sha256(password);
    }

    private static String sha256(char[] password) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(new String(password).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    String endpoint() throws ConnectorException {
        String e = endpoint;
        if (e == null) {
            e = leader.endpoint();
            endpoint = e;
        }
        return e;
    }

    /** Calls {@code method}; the reply whatever its code (callers read OpenMLDB's codes), after 300s are retried. */
    JsonNode call(String method, ObjectNode request) throws ConnectorException {
        long backoff = 200;
        for (int attempt = 1; ; attempt++) {
            String ep = endpoint();
            JsonNode reply;
            try {
                reply = post(ep, method, request);
            } catch (Unreachable e) {
                // the leader may have gone and another taken over: ask again, a few times
                endpoint = null;
                if (attempt >= 6) {
                    throw e.failure;
                }
                reply = null;
            }
            if (reply != null && (reply.path("code").asInt(0) != 300 || attempt >= 6)) {
                return reply;
            }
            endpoint = null; // "nameserver is not leader" or gone: ask ZooKeeper again
            try {
                TimeUnit.MILLISECONDS.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectorException(Engine.OPENMLDB, method, "interrupted", true, e);
            }
            backoff = Math.min(2000, backoff * 2);
        }
    }

    /** Calls {@code method} and requires code 0; otherwise one line with OpenMLDB's code and words. */
    JsonNode ok(String method, ObjectNode request) throws ConnectorException {
        JsonNode r = call(method, request);
        int code = r.path("code").asInt(-1);
        if (code != 0) {
            throw refused(method, r);
        }
        return r;
    }

    static ConnectorException refused(String method, JsonNode r) {
        int code = r.path("code").asInt(-1);
        String msg = r.path("msg").asText("");
        String why = switch (code) {
            case 301 -> "auto_failover is on (the run turns it off and back on; was it turned on meanwhile?)";
            case 300 -> "no nameserver answers as leader (a failover in progress?)";
            default -> msg;
        };
        ConnectorException.Kind kind = code == 300 || code == 303 || code == 305 ? ConnectorException.Kind.TRANSIENT : ConnectorException.Kind.REFUSED;
        return new ConnectorException(Engine.OPENMLDB, method, why + " (code " + code + ")", kind, null);
    }

    /** The nameserver did not take the connection. */
    private static final class Unreachable extends Exception {
        final ConnectorException failure;

        Unreachable(ConnectorException failure) {
            super(failure.getMessage(), null, false, false);
            this.failure = failure;
        }
    }

    /** A reply's body as JSON; one that is not (truncated, HTML, a nesting bomb) is an error naming the method. */
    static JsonNode parse(String body, String method, String ep) throws ConnectorException {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new ConnectorException(Engine.OPENMLDB, method, ep + " did not answer JSON", true, e);
        }
    }

    private JsonNode post(String ep, String method, ObjectNode request) throws ConnectorException, Unreachable {
        Request req = new Request.Builder().url("http://" + ep + "/NameServer/" + method).header("Authorization", authorization)
                .post(RequestBody.create(request.toString(), TYPE)).build();
        try (Response r = client.newCall(req).execute()) {
            String body = r.body() == null ? "" : io.tabletop.connector.Bounded.text(r.body().byteStream());
            if (r.code() != 200) {
                throw new ConnectorException(Engine.OPENMLDB, method, "HTTP " + r.code() + " from " + ep + ": "
                        + body.strip().replace('\n', ' '), r.code() >= 500 ? ConnectorException.Kind.TRANSIENT : ConnectorException.Kind.REFUSED, null);
            }
            return parse(body, method, ep);
        } catch (ConnectException | SocketTimeoutException e) {
            throw new Unreachable(new ConnectorException(Engine.OPENMLDB, method, "cannot reach the nameserver at " + ep + " ("
                    + e.getClass().getSimpleName() + ")", true, e));
        } catch (IOException e) {
            // brpc closes the connection without a reply when the credentials are refused (research §2.1)
            throw new ConnectorException(Engine.OPENMLDB, method, "the nameserver at " + ep + " closed the connection without a reply: "
                    + (userGiven ? "wrong user name or password" : "it wants a user and password") + " (authentication failed)",
                    ConnectorException.Kind.REFUSED, e);
        }
    }

    void close() {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}
