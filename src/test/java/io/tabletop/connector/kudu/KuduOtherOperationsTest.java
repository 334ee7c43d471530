package io.tabletop.connector.kudu;

import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Another operation in progress, as Kudu shows it to any machine: a tablet server in maintenance mode that
 * this run did not set. On a snapshot built here (the tserver states are what KuduTopology reads from
 * {@code tserver list -columns=state}); the real-Kudu case is not run in this class.
 */
class KuduOtherOperationsTest {
    private static final ServerId TS3 = ServerId.of("ts-3");

    @Test
    void aServerInMaintenanceThatTheRunDidNotSetIsAnotherOperationNamed() {
        ClusterSnapshot s = SandboxFixtures.kuduBaseline().withServerState(TS3, ServerState.MAINTENANCE);
        List<String> others = KuduConnector.maintenanceBySomeoneElse(s, List.of(ServerId.of("ts-2")));
        assertEquals(1, others.size(), others.toString());
        assertTrue(others.get(0).startsWith("tablet server ts-3 (") && others.get(0).contains("maintenance mode"), others.get(0));
    }

    @Test
    void theRunsOwnServerInMaintenanceIsNotAnotherOperation() {
        ClusterSnapshot s = SandboxFixtures.kuduBaseline().withServerState(TS3, ServerState.MAINTENANCE);
        assertEquals(List.of(), KuduConnector.maintenanceBySomeoneElse(s, List.of(TS3)));
        assertEquals(List.of(), KuduConnector.maintenanceBySomeoneElse(SandboxFixtures.kuduBaseline(), List.of()));
    }
}
