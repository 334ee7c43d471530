package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * Reads the masters' web endpoints (OkHttp + Jackson): {@code /dump-entities} is the cluster's topology
 * in one 16 ms call. Tries each master in turn; followers answer too. Thread-safe.
 */
public final class KuduMasterHttp {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final OkHttpClient CLIENT = new OkHttpClient.Builder()
            .connectTimeout(Duration.ofSeconds(3)).readTimeout(Duration.ofSeconds(10)).build();

    private final List<String> webAddresses;
    private final OkHttpClient client;

    public KuduMasterHttp(List<String> webAddresses) {
        this(webAddresses, KuduKerberos.fromEnvironment());
    }

    /** Web UIs behind SPNEGO ({@code --webserver_require_spnego}) get a token from the operator's ticket. */
    public KuduMasterHttp(List<String> webAddresses, KuduKerberos kerberos) {
        if (webAddresses.isEmpty()) {
            throw new IllegalArgumentException("no master web address");
        }
        this.webAddresses = List.copyOf(webAddresses);
        this.client = CLIENT.newBuilder().authenticator((route, response) -> {
            boolean negotiate = response.headers("WWW-Authenticate").stream().anyMatch(h -> h.startsWith("Negotiate"));
            if (!negotiate || response.priorResponse() != null) {
                return null; // not SPNEGO, or our token was refused: the 401 is the answer
            }
            return response.request().newBuilder().header("Authorization", kerberos.negotiate(response.request().url().host())).build();
        }).build();
    }

    public JsonNode dumpEntities() throws ConnectorException {
        return get("/dump-entities");
    }

    /**
     * Whether the server behind the web UI at {@code webAddress} runs: it answers {@code /healthz} at all
     * (a 401 of a SPNEGO-protected UI, or a TLS certificate this client does not trust, count: something answered).
     */
    boolean answers(String webAddress) {
        String url = (webAddress.startsWith("http") ? webAddress : "http://" + webAddress) + "/healthz";
        try (Response r = CLIENT.newCall(new Request.Builder().url(url).get().build()).execute()) {
            return true;
        } catch (javax.net.ssl.SSLException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    JsonNode get(String path) throws ConnectorException {
        List<String> whys = new java.util.ArrayList<>();
        String why = "";
        for (String addr : webAddresses) {
            String url = (addr.startsWith("http") ? addr : "http://" + addr) + path;
            Request req = new Request.Builder().url(url).get().build();
            try (Response r = client.newCall(req).execute()) {
                if (r.code() == 401) {
                    // SPNEGO refused the token, or the UI wants something else
                    throw new ConnectorException(Engine.KUDU, "read " + path, url + " refused the Kerberos ticket in "
                            + "the ticket cache (HTTP 401): run kinit as a user the cluster admits", false, null);
                }
                if (!r.isSuccessful()) {
                    why = url + " answered HTTP " + r.code();
                    whys.add(why);
                    continue;
                }
                String body = r.body() == null ? "" : r.body().string();
                try {
                    return JSON.readTree(body);
                } catch (IOException e) {
                    why = url + " did not answer JSON (" + e.getClass().getSimpleName() + " at " + abbreviate(body) + ")";
                    whys.add(why);
                }
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().contains("Kerberos")) {
                    // no ticket: the same at every master, and kinit is the fix
                    throw new ConnectorException(Engine.KUDU, "read " + path, e.getMessage(), false, e);
                }
                why = "cannot reach " + url + ": " + e.getMessage();
                whys.add(why);
            }
        }
        throw new ConnectorException(Engine.KUDU, "read " + path, String.join("; ", whys), true, null);
    }

    private static String abbreviate(String s) {
        String t = s.strip().replace('\n', ' ');
        return t.length() > 60 ? "'" + t.substring(0, 60) + "…'" : "'" + t + "'";
    }
}
