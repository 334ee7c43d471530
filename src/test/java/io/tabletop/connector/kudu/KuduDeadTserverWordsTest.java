package io.tabletop.connector.kudu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tabletop.connector.ConnectorException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How Tabletop reads Kudu's words about dead tservers: {@code kudu tserver get_flags}' table (as Kudu 1.17.1
 * prints it, copied from a local cluster), and the errors of {@code move_replica} that mean "not yet" or
 * "the cluster changed" rather than a failure for the operator.
 */
class KuduDeadTserverWordsTest {
    private static final String GET_FLAGS = """
                                flag                    | value | default value? |       tags
            --------------------------------------------+-------+----------------+------------------
             follower_unavailable_considered_failed_sec | 300   | true           | advanced,runtime
             tserver_unresponsive_timeout_ms            | 60000 | true           | advanced
            """;

    @Test
    void aFlagIsReadFromGetFlagsTable() {
        assertEquals(Optional.of(300L), KuduConnector.flagValue(GET_FLAGS, "follower_unavailable_considered_failed_sec"));
        assertEquals(Optional.of(60_000L), KuduConnector.flagValue(GET_FLAGS, "tserver_unresponsive_timeout_ms"));
        assertEquals(Optional.empty(), KuduConnector.flagValue(GET_FLAGS, "follower_unavailable"), "a whole name only");
        assertEquals(Optional.empty(), KuduConnector.flagValue("garbage\n|||\n", "follower_unavailable_considered_failed_sec"));
        assertEquals(Optional.empty(), KuduConnector.flagValue(" follower_unavailable_considered_failed_sec | soon | false | x", "follower_unavailable_considered_failed_sec"));
    }

    @Test
    void moveReplicasErrorsSayWhatToDoNext() {
        assertEquals(ConnectorException.Kind.NOT_YET, KuduConnector.moveFailureKind(
                "Corruption: ksck pre-move health check failed: 1 out of 1 table(s) are not healthy"));
        assertEquals(ConnectorException.Kind.DRIFT, KuduConnector.moveFailureKind(
                "Illegal state: tablet 5e6f: replica 7a1b is already present"));
        assertEquals(ConnectorException.Kind.REFUSED, KuduConnector.moveFailureKind("Invalid argument: no such tablet"));
    }

    /**
     * A tablet with a voter too many is repaired by a leader step-down only when every voter answers; one
     * whose extra voter is on a dead tserver waits for Kudu (the gate used to spend 30 s on it per re-plan).
     * The shape is ksck's {@code -ksck_format=json_compact}, trimmed to the fields read.
     */
    @Test
    void onlyOverReplicatedTabletsOnHealthyTserversAreRepairable() throws Exception {
        JsonNode ksck = new ObjectMapper().readTree("""
                {"tserver_summaries":[{"uuid":"a","health":"HEALTHY"},{"uuid":"b","health":"HEALTHY"},
                  {"uuid":"c","health":"HEALTHY"},{"uuid":"d","health":"HEALTHY"},{"uuid":"e","health":"UNAVAILABLE"}],
                 "table_summaries":[{"id":"t1","replication_factor":3}],
                 "tablet_summaries":[
                  {"id":"ok","table_id":"t1","master_cstate":{"voter_uuids":["a","b","c"]}},
                  {"id":"mine","table_id":"t1","master_cstate":{"voter_uuids":["a","b","c","d"]}},
                  {"id":"kudus","table_id":"t1","master_cstate":{"voter_uuids":["a","b","c","e"]}}]}
                """);
        assertEquals(List.of("mine", "kudus"), KuduKsck.overReplicatedIds(ksck));
        assertEquals(List.of("mine"), KuduKsck.repairableOverReplicatedIds(ksck));
    }
}
