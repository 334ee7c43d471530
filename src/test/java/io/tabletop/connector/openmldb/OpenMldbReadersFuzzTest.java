package io.tabletop.connector.openmldb;

import com.fasterxml.jackson.databind.JsonNode;
import io.tabletop.connector.ConnectorException;
import io.tabletop.fuzz.JsonFuzz;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile or broken replies from an OpenMLDB nameserver: the readers of ShowTablet, ShowTable and
 * ShowOPStatus, fed 600 variants (from a fixed seed) of what the emulator answers for seed 002: a whole
 * snapshot and health verdict, or one short clear error; never a crash or a hang.
 */
class OpenMldbReadersFuzzTest {
    private static String call(OkHttpClient http, String ep, String method, String body) throws Exception {
        try (Response r = http.newCall(new Request.Builder().url("http://" + ep + "/NameServer/" + method).header("Authorization", "sdefault")
                .post(RequestBody.create(body, MediaType.get("application/json"))).build()).execute()) {
            return r.body().string();
        }
    }

    @Test
    void everyReplyIsAWholeSnapshotOrOneShortClearError() throws Exception {
        String tablets;
        String tables;
        String ops;
        try (OpenMldbCluster cl = OpenMldbConnectorTest.seed002("sdefault", 1)) {
            OkHttpClient http = new OkHttpClient();
            String ep = cl.ns.endpoints().get(0);
            tablets = call(http, ep, "ShowTablet", "{}");
            tables = call(http, ep, "ShowTable", "{\"show_all\":true}");
            ops = call(http, ep, "ShowOPStatus", "{}");
        }
        String[] seeds = {tablets, tables, ops};
        assertNotNull(OpenMldbTopology.read("c", OpenMldbRpc.parse(tablets, "ShowTablet", "ep"), OpenMldbRpc.parse(tables, "ShowTable", "ep"),
                Instant.EPOCH), "the seeds read");
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            JsonFuzz fuzz = new JsonFuzz(2L);
            int whole = 0;
            int refused = 0;
            for (int i = 0; i < 600; i++) {
                String[] in = seeds.clone();
                in[i % 3] = fuzz.variant(seeds[i % 3]);
                try {
                    JsonNode t = OpenMldbRpc.parse(in[0], "ShowTablet", "127.0.2.101:1");
                    JsonNode s = OpenMldbRpc.parse(in[1], "ShowTable", "127.0.2.101:1");
                    JsonNode o = OpenMldbRpc.parse(in[2], "ShowOPStatus", "127.0.2.101:1");
                    assertNotNull(OpenMldbTopology.read("c", t, s, Instant.EPOCH).servers());
                    assertNotNull(OpenMldbTopology.readHealth(t, s, o, i % 2 == 0).verdict());
                    whole++;
                } catch (ConnectorException e) {
                    assertTrue(e.getMessage().startsWith("openmldb: "), e.getMessage());
                    assertTrue(e.getMessage().length() < 1500, "short: " + e.getMessage().length());
                    refused++;
                } catch (RuntimeException | StackOverflowError e) {
                    fail("variant " + i + " crashed the reader: " + e, e);
                }
            }
            assertTrue(whole > 30 && refused > 30, whole + " whole, " + refused + " refused");
        });
    }
}
