package io.tabletop.connector.couchbase;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ConnectorException;
import io.tabletop.emulator.NsServerEmulator;
import io.tabletop.fuzz.JsonFuzz;
import okhttp3.Credentials;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile or broken answers from Couchbase: the reader of {@code /pools/default} and its buckets, fed 600
 * variants (from a fixed seed) of what the emulator answers: a whole snapshot or one short clear error,
 * never a crash or a hang.
 */
class CouchbaseReadersFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String get(OkHttpClient http, String host, String path) throws Exception {
        try (Response r = http.newCall(new Request.Builder().url("http://" + host + path)
                .header("Authorization", Credentials.basic("Administrator", CouchbaseConnectorTest.PASSWORD)).build()).execute()) {
            return r.body().string();
        }
    }

    @Test
    void everyAnswerIsAWholeSnapshotOrOneShortClearError() throws Exception {
        String pools;
        String buckets;
        String stats;
        try (NsServerEmulator emu = NsServerEmulator.builder().credentials("Administrator", CouchbaseConnectorTest.PASSWORD)
                .dataNode(1).dataNode(2).dataNode(3).bucket("travel-sample", 1, 64, 6_300).memcachedBucket("sessions").start()) {
            OkHttpClient http = new OkHttpClient();
            pools = get(http, emu.hosts().get(0), "/pools/default");
            buckets = get(http, emu.hosts().get(0), "/pools/default/buckets");
            stats = get(http, emu.hosts().get(0), "/pools/default/stats/range/kv_curr_items?bucket=travel-sample&start=-10");
        }
        String seedStats = stats;
        assertTrue(CouchbaseTopology.readLastValues(JSON.readTree(seedStats)).isPresent(), "the stats seed reads: " + seedStats);
        String seedPools = pools;
        String seedBuckets = buckets;
        assertNotNull(CouchbaseTopology.read("c", JSON.readTree(seedPools), JSON.readTree(seedBuckets), Map.of(), Instant.EPOCH));
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            JsonFuzz fuzz = new JsonFuzz(11L);
            int whole = 0;
            int refused = 0;
            for (int i = 0; i < 600; i++) {
                try {
                    CouchbaseTopology.readLastValues(CouchbaseRest.parse(fuzz.variant(seedStats), "/pools/default/stats/range"));
                } catch (ConnectorException e) {
                    assertTrue(e.getMessage().length() < 1500);
                } catch (RuntimeException | StackOverflowError e) {
                    fail("stats variant " + i + " crashed the reader: " + e, e);
                }
                String p = i % 2 == 0 ? fuzz.variant(seedPools) : seedPools;
                String b = i % 2 == 1 ? fuzz.variant(seedBuckets) : seedBuckets;
                try {
                    JsonNode pn = CouchbaseRest.parse(p, "/pools/default");
                    JsonNode bn = CouchbaseRest.parse(b, "/pools/default/buckets");
                    assertNotNull(CouchbaseTopology.read("c", pn, bn, Map.of(), Instant.EPOCH).partitions());
                    whole++;
                } catch (ConnectorException e) {
                    assertTrue(e.getMessage().startsWith("couchbase: "), e.getMessage());
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
