package io.tabletop.domain;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepTest {
    /** Review defect 2: describe() threw a NullPointerException for an engine rebalance that names no server. */
    @Test
    void anEngineRebalanceWithoutServersDescribesItself() {
        Step s = Step.engineRebalance(0, List.of(), 0, "even out every bucket").withIndex(0);
        assertEquals("Engine rebalance", s.describe());
        assertEquals(List.of(), s.touchedServers());
        assertEquals(null, s.server());
    }

    @Test
    void aServerStepNamesExactlyOneServer() {
        String msg = assertThrows(IllegalArgumentException.class, () -> new Step(0, 0, StepType.STOP_SERVER, null, null, null, null,
                List.of(ServerId.of("a"), ServerId.of("b")), 0, "")).getMessage();
        assertTrue(msg.contains("STOP_SERVER needs one server, has 2"), msg);
        assertEquals("Stop server ts-3", Step.server(0, StepType.STOP_SERVER, ServerId.of("ts-3"), "").describe());
    }
}
