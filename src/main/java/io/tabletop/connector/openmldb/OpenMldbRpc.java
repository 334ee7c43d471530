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
 * The nameserver's RPCs as brpc serves them over HTTP+JSON (src/docs/openmldb.md, "Calls"): {@code POST
 * /NameServer/METHOD} with the request message as JSON and an {@code Authorization} header ({@code sdefault},
 * or {@code u<user>:1<sha256 hex of the password>}), the reply message as JSON with {@code code} and
 * {@code msg}. "nameserver is not leader" (300) and a nameserver that does not take the connection find the
 * leader again and retry with backoff for {@link #FAILOVER_BUDGET}: a crashed leader's ZooKeeper lock node
 * lingers for the session timeout (10 s in OpenMLDB's shipped configuration), and a new leader answers 300
 * until it has loaded its metadata (src/docs/openmldb.md, "Nameserver failover"). A connection closed
 * without a reply is brpc refusing the credentials on a server that checks them, or a nameserver going
 * down: it is retried a few times, then said as both. The password is kept only as the header value, in
 * memory. Thread-safe.
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
    /** How long calls keep finding the leader again: longer than the ZooKeeper session timeout a failover waits out. */
    static final java.time.Duration FAILOVER_BUDGET = java.time.Duration.ofSeconds(25);
    /** Connections closed without a reply before that is taken as the answer (a refusal, or a server going down). */
    private static final int CLOSED_TRIES = 3;

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
        return call(method, request, true);
    }

    /**
     * A call that creates an op: sent again only where it surely was not made (no connection, or "not leader").
     * A request that may have reached the nameserver and got no answer (a read timeout, a connection closed
     * without a reply) is {@link ConnectorException.Kind#OUTCOME_UNKNOWN}: the nameserver adds the op before
     * it answers, so the caller reads the partition instead of sending a second op beside the first.
     */
    JsonNode callOnce(String method, ObjectNode request) throws ConnectorException {
        return call(method, request, false);
    }

    private JsonNode call(String method, ObjectNode request, boolean again) throws ConnectorException {
        long backoff = 200;
        long deadline = System.nanoTime() + FAILOVER_BUDGET.toNanos();
        int closed = 0;
        for (int attempt = 1; ; attempt++) {
            boolean last = System.nanoTime() > deadline;
            String ep;
            try {
                ep = endpoint();
            } catch (ConnectorException e) {
                if (last || e.kind() != ConnectorException.Kind.TRANSIENT) {
                    throw e;
                }
                ep = null; // no leader registered yet: a failover in progress
            }
            JsonNode reply = null;
            if (ep != null) {
                try {
                    reply = post(ep, method, request);
                } catch (Unreachable e) {
                    // the leader may have gone and another taken over: ask again until the budget is spent
                    endpoint = null;
                    if (last) {
                        throw e.failure;
                    }
                } catch (Closed e) {
                    endpoint = null;
                    if (!again) {
                        throw new ConnectorException(Engine.OPENMLDB, method, "no answer from the nameserver at " + ep + " ("
                                + e.failure.getCause().getClass().getSimpleName() + "): the call may or may not have been made",
                                ConnectorException.Kind.OUTCOME_UNKNOWN, e.failure.getCause());
                    }
                    if (++closed >= CLOSED_TRIES || last) {
                        throw e.failure;
                    }
                }
            }
            if (reply != null && (reply.path("code").asInt(0) != 300 || last)) {
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
            case 305 -> "the nameserver could not create the op (for ChangeLeader: the candidate is not an alive follower on a healthy "
                    + "tablet)" + (msg.isEmpty() ? "" : ": " + msg);
            default -> msg;
        };
        // 300 passes with a failover; 305 (the candidate is not an alive follower on a healthy tablet), 303 (a tablet
        // not healthy) and the rest are the nameserver's rules: the same call is refused again (src/docs/openmldb.md)
        ConnectorException.Kind kind = code == 300 ? ConnectorException.Kind.TRANSIENT : ConnectorException.Kind.REFUSED;
        return new ConnectorException(Engine.OPENMLDB, method, why + " (code " + code + ")", kind, null);
    }

    private static ConnectorException unreachable(String method, String ep, IOException e) {
        return new ConnectorException(Engine.OPENMLDB, method, "cannot reach the nameserver at " + ep + " (" + e.getClass().getSimpleName() + ")",
                true, e);
    }

    /** The nameserver took the request and gave no answer: closed the connection, or let the read time out. */
    private static final class Closed extends Exception {
        final ConnectorException failure;

        Closed(ConnectorException failure) {
            super(failure.getMessage(), null, false, false);
            this.failure = failure;
        }
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

    private JsonNode post(String ep, String method, ObjectNode request) throws ConnectorException, Unreachable, Closed {
        Request req = new Request.Builder().url("http://" + ep + "/NameServer/" + method).header("Authorization", authorization)
                .post(RequestBody.create(request.toString(), TYPE)).build();
        try (Response r = client.newCall(req).execute()) {
            String body = r.body() == null ? "" : io.tabletop.connector.Bounded.text(r.body().byteStream());
            if (r.code() != 200) {
                throw new ConnectorException(Engine.OPENMLDB, method, "HTTP " + r.code() + " from " + ep + ": "
                        + body.strip().replace('\n', ' '), r.code() >= 500 ? ConnectorException.Kind.TRANSIENT : ConnectorException.Kind.REFUSED, null);
            }
            return parse(body, method, ep);
        } catch (ConnectException e) {
            throw new Unreachable(unreachable(method, ep, e));
        } catch (SocketTimeoutException e) {
            if (String.valueOf(e.getMessage()).contains("connect")) {
                throw new Unreachable(unreachable(method, ep, e)); // never connected: nothing was sent
            }
            // sent, and no answer in time: the call may have been made
            throw new Closed(new ConnectorException(Engine.OPENMLDB, method, "the nameserver at " + ep + " did not answer within the read "
                    + "timeout", ConnectorException.Kind.TRANSIENT, e));
        } catch (IOException e) {
            // brpc closes the connection without a reply when a server that checks credentials refuses them; so does
            // a nameserver going down. Whether the server checks at all depends on its version and skip_grant_tables
            // (src/docs/openmldb.md, "Authentication"): say both, claim neither.
            throw new Closed(new ConnectorException(Engine.OPENMLDB, method, "the nameserver at " + ep + " closed the connection without "
                    + "a reply, " + CLOSED_TRIES + " times: either it refuses " + (userGiven ? "this user name or password" : "a connection without "
                    + "a user and password") + " (servers from 0.9.1 with skip_grant_tables=false check them; 0.9.0 and the default 0.9.1+ "
                    + "do not), or it is going down", ConnectorException.Kind.REFUSED, e));
        }
    }

    void close() {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}
