package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reading a tserver's {@code /metrics?types=tablet&metrics=on_disk_size&compact=1} (the shape in
 * research/kudu.md §2.10): replicas the masters place on it, and tombstones, which it still lists.
 */
class KuduMetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void replicasTheMastersPlaceHereAreLiveTheRestAreTombstones() throws Exception {
        JsonNode dump = JSON.readTree("""
                {"tables":[{"table_id":"x","table_name":"x"}],"tablets":[
                  {"tablet_id":"t1","table_id":"x","replicas":[{"server_uuid":"A"},{"server_uuid":"B"}]},
                  {"tablet_id":"t2","table_id":"x","replicas":[{"server_uuid":"B"},{"server_uuid":"C"}]},
                  {"tablet_id":"t3","table_id":"x","replicas":[]}]}""");
        JsonNode metrics = JSON.readTree("""
                [{"type":"server","id":"kudu.tabletserver","metrics":[{"name":"on_disk_size","value":1}]},
                 {"type":"tablet","id":"t1","attributes":{"table_name":"x"},"metrics":[{"name":"live_row_count","value":3},{"name":"on_disk_size","value":8415180}]},
                 {"type":"tablet","id":"t2","metrics":[{"name":"on_disk_size","value":8400000}]}]""");
        KuduTopology.Replicas onA = KuduTopology.replicasOn(metrics, dump, "A");
        assertEquals(Map.of("t1", 8415180L), onA.live());
        assertEquals(Map.of("t2", 8400000L), onA.tombstoned(), "t2 is no longer placed on A: a tombstone");
        KuduTopology.Replicas onB = KuduTopology.replicasOn(metrics, dump, "B");
        assertEquals(Map.of("t1", 8415180L, "t2", 8400000L), onB.live());
        assertEquals(Map.of(), onB.tombstoned());

        JsonNode ksck = JSON.readTree("""
                {"tablet_summaries":[{"id":"t1","replicas":[{"status_pb":{"estimated_on_disk_size":5}}]},
                                     {"id":"t2","replicas":[{"status_pb":{}}]}]}""");
        assertEquals(Set.of("t2"), KuduTopology.unsized(dump, ksck), "t2 has no size from ksck; t3 has no replica to ask");
        var snap = KuduTopology.snapshot(dump, Map.of(), ksck, Map.of("t2", 7L, "t1", 99L), "kudu://x", java.time.Instant.EPOCH);
        assertEquals(5L, snap.partitions().get(0).sizeBytes(), "ksck's size wins where it has one");
        assertEquals(7L, snap.partitions().get(1).sizeBytes(), "the metrics' size where ksck has none");
    }
}
