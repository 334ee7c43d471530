package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.fuzz.JsonFuzz;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile or broken answers from a Kudu cluster: every reader of {@code /dump-entities}, {@code tserver list}
 * and ksck's JSON, fed 1,500 variants from a fixed seed (wrong types, missing fields, huge strings and
 * arrays, deep nesting, truncation, flipped bytes, a nesting bomb), within a bounded time. Each answer is a
 * whole snapshot or one clear error that names what Kudu said and stays short; never a crash or a hang.
 */
class KuduReadersFuzzTest {
    static final String DUMP = """
            {"tables":[{"table_id":"t1","table_name":"orders"}],
             "tablet_servers":[
               {"uuid":"a","rpc_addrs":["127.0.0.1:7050"],"http_addrs":["127.0.0.1:8050"],"live":true,"millis_since_heartbeat":312},
               {"uuid":"b","rpc_addrs":["127.0.0.2:7050"],"live":true,"millis_since_heartbeat":95},
               {"uuid":"c","rpc_addrs":["127.0.0.3:7050"],"live":false,"millis_since_heartbeat":61000}],
             "tablets":[
               {"table_id":"t1","tablet_id":"x1","leader":"a","replicas":[
                 {"server_uuid":"a","type":"VOTER","addr":"127.0.0.1:7050"},
                 {"server_uuid":"b","type":"VOTER","addr":"127.0.0.2:7050"},
                 {"server_uuid":"c","type":"NON_VOTER","addr":"127.0.0.3:7050"}]},
               {"table_id":"t1","tablet_id":"x2","leader":"b","replicas":[
                 {"server_uuid":"b","type":"VOTER","addr":"127.0.0.2:7050"},
                 {"server_uuid":"d","type":"VOTER","addr":"127.0.0.4:7050"}]}]}""";
    static final String LIST = """
            [{"uuid":"a","rpc-addresses":"127.0.0.1:7050","location":"/rack1","state":"NONE","heartbeat":"0.3s"},
             {"uuid":"b","rpc-addresses":"127.0.0.2:7050","location":"<none>","state":"MAINTENANCE_MODE","heartbeat":"0.1s"}]""";
    static final String KSCK = """
            {"summaries":[{"status":"HEALTHY"}],
             "table_summaries":[{"id":"t1","name":"orders","replication_factor":3,"healthy_tablets":2,"recovering_tablets":0,
               "underreplicated_tablets":0,"consensus_mismatch_tablets":0,"unavailable_tablets":0,"health":"HEALTHY"}],
             "tablet_summaries":[{"id":"x1","table_id":"t1","result":"HEALTHY","replicas":[
               {"ts_uuid":"a","is_leader":true,"is_voter":true,"status_pb":{"estimated_on_disk_size":1000}},
               {"ts_uuid":"b","is_leader":false,"is_voter":true,"status_pb":{"estimated_on_disk_size":1500}}]}],
             "errors":[]}""";

    static final String METRICS = """
            [{"type":"tablet","id":"x1","attributes":{"table_name":"orders"},"metrics":[{"name":"on_disk_size","value":1000}]},
             {"type":"tablet","id":"x9","attributes":{"table_name":"orders"},"metrics":[{"name":"on_disk_size","value":77}]},
             {"type":"server","id":"kudu.tabletserver","metrics":[]}]""";

    @Test
    void aTserversMetricsInAnotherShapeGiveNoSizesNeverACrash() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            JsonNode dump = KuduConnector.parse(DUMP, "kudu /dump-entities");
            assertTrue(KuduTopology.readReplicasOn(KuduConnector.parse(METRICS, "m"), dump, "a").isPresent(), "the seed reads");
            JsonFuzz fuzz = new JsonFuzz(5L);
            int read = 0;
            for (int i = 0; i < 800; i++) {
                String m = fuzz.variant(METRICS);
                try {
                    JsonNode n = KuduConnector.parse(m, "kudu tserver /metrics");
                    if (KuduTopology.readReplicasOn(n, dump, "a").isPresent()) {
                        read++;
                    }
                } catch (ConnectorException e) {
                    assertTrue(e.getMessage().length() < 1500);
                } catch (RuntimeException | StackOverflowError e) {
                    fail("variant " + i + " crashed the metrics reader: " + e, e);
                }
            }
            assertTrue(read > 50, read + " read");
        });
    }

    @Test
    void everyAnswerIsAWholeSnapshotOrOneShortClearError() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            JsonFuzz fuzz = new JsonFuzz(20261130L);
            int whole = 0;
            int refused = 0;
            for (int i = 0; i < 1500; i++) {
                String dump = DUMP;
                String list = LIST;
                String ksck = KSCK;
                switch (i % 3) {
                    case 0 -> dump = fuzz.variant(DUMP);
                    case 1 -> list = fuzz.variant(LIST);
                    default -> ksck = fuzz.variant(KSCK);
                }
                try {
                    JsonNode d = KuduConnector.parse(dump, "kudu /dump-entities");
                    Map<String, JsonNode> l = KuduConnector.byUuid(KuduConnector.parse(list, "kudu tserver list"));
                    JsonNode k = KuduConnector.parse(ksck, "kudu cluster ksck");
                    ClusterSnapshot s = KuduTopology.read(d, l, k, Map.of(), "127.0.0.1:7051", Instant.EPOCH);
                    HealthReport h = KuduKsck.read(i % 2, k);
                    assertNotNull(s.servers());
                    assertNotNull(h.verdict());
                    whole++;
                } catch (ConnectorException e) {
                    String m = e.getMessage();
                    assertTrue(m.startsWith("kudu: "), m);
                    assertTrue(m.length() < 1500, "a short message, not the answer echoed: " + m.length() + " chars");
                    refused++;
                } catch (RuntimeException | StackOverflowError e) {
                    fail("variant " + i + " crashed the reader: " + e, e);
                }
            }
            assertTrue(whole > 100 && refused > 100, "both outcomes are exercised: " + whole + " whole, " + refused + " refused");
        });
    }
}
