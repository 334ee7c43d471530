package io.tabletop.store;

import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnapshotJsonTest {
    @Test
    void roundTripKeepsEveryField() throws Exception {
        ClusterSnapshot s = SandboxFixtures.standard();
        ClusterSnapshot back = SnapshotJson.read(SnapshotJson.write(s), "test");
        assertEquals(s.servers(), back.servers());
        assertEquals(s.tables(), back.tables());
        assertEquals(s.partitions(), back.partitions());
        assertEquals(s.takenAt(), back.takenAt());
    }

    @Test
    void readsTheArchitectureExampleIgnoringUnknownFieldsAndMissingOptionals() throws Exception {
        String json = """
                {"engine": "kudu", "cluster": "prod-eu", "comment": "unknown fields are ignored",
                 "servers":    [{"id": "ts-1", "address": "127.0.1.45:7050", "location": "/rack1",
                                 "state": "LIVE", "capacityBytes": 4000000000000, "usedBytes": 1200000000000},
                                {"id": "ts-2", "address": "127.0.1.46:7050", "state": "LIVE"}],
                 "tables":     [{"id": "t-1", "name": "orders", "replicationFactor": 3}],
                 "partitions": [{"id": "p-1", "table": "t-1", "sizeBytes": 1048576, "rows": 5200,
                                 "replicas": [{"server": "ts-1", "role": "LEADER"},
                                              {"server": "ts-2", "role": "FOLLOWER"}]}]}
                """;
        ClusterSnapshot s = SnapshotJson.read(json, "example");
        assertEquals("prod-eu", s.cluster());
        assertNull(s.server(ServerId.of("ts-2")).orElseThrow().location());
        assertNull(s.server(ServerId.of("ts-2")).orElseThrow().capacityBytes());
        assertEquals(ServerId.of("ts-1"), s.partitions().get(0).leader().orElseThrow());
    }

    @Test
    void malformedJsonSaysWhere() {
        FormatException e = assertThrows(FormatException.class, () -> SnapshotJson.read("{\"servers\": [}", "snap.json"));
        assertTrue(e.getMessage().startsWith("snap.json: not valid JSON at line 1, column 14"), e.getMessage());
    }

    @Test
    void replicaOnUnknownServerIsNamed() {
        String json = """
                {"servers": [{"id": "ts-1"}], "tables": [{"id": "t", "replicationFactor": 1}],
                 "partitions": [{"id": "p-1", "table": "t", "replicas": [{"server": "ts-9", "role": "LEADER"}]}]}""";
        FormatException e = assertThrows(FormatException.class, () -> SnapshotJson.read(json, "s.json"));
        assertEquals("s.json: partition p-1 has a replica on unknown server ts-9", e.getMessage());
    }

    @Test
    void badValuesAreNamed() {
        assertTrue(assertThrows(FormatException.class, () -> SnapshotJson.read(
                "{\"servers\": [{\"id\": \"s\"}], \"tables\": [{\"id\": \"t\"}]}", "a")).getMessage().contains("table t: replicationFactor missing"));
        assertEquals("e: not a snapshot: no servers", assertThrows(FormatException.class, () -> SnapshotJson.read("{}", "e")).getMessage());
        assertTrue(assertThrows(FormatException.class, () -> SnapshotJson.read("{\"servers\": [{\"id\": \"s\", \"capacityBytes\": -1}]}", "f"))
                .getMessage().contains("capacityBytes must be 0 to 2^53, was -1"));
        assertTrue(assertThrows(FormatException.class, () -> SnapshotJson.read(
                "{\"servers\": [{\"id\": \"s\", \"state\": \"ASLEEP\"}]}", "b")).getMessage().contains("unknown server state 'ASLEEP'"));
        assertTrue(assertThrows(FormatException.class, () -> SnapshotJson.read(
                "[1, 2]", "c")).getMessage().contains("expected a JSON object"));
        assertTrue(assertThrows(FormatException.class, () -> SnapshotJson.read(
                "{\"servers\": [{\"id\": \"s\", \"capacityBytes\": \"lots\"}]}", "d")).getMessage().contains("'capacityBytes' must be a whole number"));
    }
}
