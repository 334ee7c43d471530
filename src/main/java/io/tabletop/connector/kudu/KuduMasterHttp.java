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

    public KuduMasterHttp(List<String> webAddresses) {
        if (webAddresses.isEmpty()) {
            throw new IllegalArgumentException("no master web address");
        }
        this.webAddresses = List.copyOf(webAddresses);
    }

    public JsonNode dumpEntities() throws ConnectorException {
        return get("/dump-entities");
    }

    /** Whether the web UI at {@code webAddress} answers {@code /healthz} with a 2xx. */
    static boolean up(String webAddress) {
        String url = (webAddress.startsWith("http") ? webAddress : "http://" + webAddress) + "/healthz";
        try (Response r = CLIENT.newCall(new Request.Builder().url(url).get().build()).execute()) {
            return r.isSuccessful();
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
            try (Response r = CLIENT.newCall(req).execute()) {
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
