package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The topology reader on answers in the shapes Kudu 1.17's masters give (research/kudu.md §2):
 * {@code /dump-entities}, {@code tserver list --format=json}, ksck's compact JSON.
 */
class KuduTopologyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void rolesStatesLocationsAndSizesComeFromTheRightAnswer() throws Exception {
        JsonNode dump = JSON.readTree("""
                {"tables":[{"table_id":"t1","table_name":"orders"}],
                 "tablet_servers":[
                   {"uuid":"a","rpc_addrs":["127.0.0.1:7050"],"live":true,"millis_since_heartbeat":312},
                   {"uuid":"b","rpc_addrs":["127.0.0.2:7050"],"live":true,"millis_since_heartbeat":95},
                   {"uuid":"c","rpc_addrs":["127.0.0.3:7050"],"live":false,"millis_since_heartbeat":61000}],
                 "tablets":[
                   {"table_id":"t1","tablet_id":"x1","leader":"a","replicas":[
                     {"server_uuid":"a","type":"VOTER","addr":"127.0.0.1:7050"},
                     {"server_uuid":"b","type":"VOTER","addr":"127.0.0.2:7050"},
                     {"server_uuid":"c","type":"NON_VOTER","addr":"127.0.0.3:7050"}]},
                   {"table_id":"t1","tablet_id":"x2","leader":"b","replicas":[
                     {"server_uuid":"b","type":"VOTER","addr":"127.0.0.2:7050"},
                     {"server_uuid":"d","type":"VOTER","addr":"127.0.0.4:7050"}]}]}""");
        Map<String, JsonNode> listed = Map.of(
                "a", JSON.readTree("{\"uuid\":\"a\",\"location\":\"/rack1\",\"state\":\"NONE\"}"),
                "b", JSON.readTree("{\"uuid\":\"b\",\"location\":\"<none>\",\"state\":\"MAINTENANCE_MODE\"}"));
        JsonNode ksck = JSON.readTree("""
                {"table_summaries":[{"id":"t1","replication_factor":3}],
                 "tablet_summaries":[{"id":"x1","replicas":[
                   {"status_pb":{"estimated_on_disk_size":1000}},{"status_pb":{"estimated_on_disk_size":1500}}]}]}""");
        ClusterSnapshot s = KuduTopology.snapshot(dump, listed, ksck, "127.0.0.1:7051", Instant.EPOCH);

        Server a = s.server(ServerId.of("a")).orElseThrow();
        assertEquals("/rack1", a.location());
        assertEquals(ServerState.LIVE, a.state());
        assertEquals(312L, a.heartbeatAgeMillis());
        Server b = s.server(ServerId.of("b")).orElseThrow();
        assertNull(b.location(), "'<none>' is no location");
        assertEquals(ServerState.MAINTENANCE, b.state());
        assertEquals(ServerState.DEAD, s.server(ServerId.of("c")).orElseThrow().state());
        Server d = s.server(ServerId.of("d")).orElseThrow();
        assertEquals(ServerState.DEAD, d.state(), "a replica on a server the masters no longer list");
        assertEquals("127.0.0.4:7050 (unregistered)", d.address());

        Partition x1 = s.partition(PartitionId.of("x1")).orElseThrow();
        assertEquals(ReplicaRole.LEADER, x1.roleOn(ServerId.of("a")).orElseThrow());
        assertEquals(ReplicaRole.FOLLOWER, x1.roleOn(ServerId.of("b")).orElseThrow());
        assertEquals(ReplicaRole.LEARNER, x1.roleOn(ServerId.of("c")).orElseThrow(), "a NON_VOTER is being built");
        assertEquals(1500L, x1.sizeBytes(), "the largest replica's size");
        assertNull(s.partition(PartitionId.of("x2")).orElseThrow().sizeBytes(), "unknown stays unknown, never zero");
        assertEquals(3, s.table(io.tabletop.domain.TableId.of("t1")).orElseThrow().replicationFactor());
        assertEquals("orders", s.tables().get(0).name());
    }
}
