package io.tabletop.connector.kudu;

import io.tabletop.connector.ConnectorException;
import org.junit.jupiter.api.Test;

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
}
