package io.tabletop.connector.kudu;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.domain.TableId;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Review defect 5: the audit log must record exactly what ran. A stand-in {@code kudu} script records the
 * arguments it is called with; a loopback web server answers the master's {@code /dump-entities}. For each
 * step, {@code command(step)} must equal the command line that was executed.
 */
@EnabledOnOs({OS.LINUX, OS.MAC})
class KuduAuditedCommandTest {
    @TempDir
    Path dir;
    private MockWebServer web;
    private Path calls;
    private KuduConnector kudu;

    @BeforeEach
    void start() throws Exception {
        calls = dir.resolve("calls.txt");
        Path script = dir.resolve("kudu");
        Files.writeString(script, "#!/bin/sh\necho \"$@\" >> '" + calls + "'\nexit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        web = new MockWebServer();
        web.setDispatcher(new okhttp3.mockwebserver.Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                // t-1 is led by ts-b (a leader transfer's target); no replica is on ts-x (an engine drain's source).
                return new MockResponse().setBody("{\"tables\":[],\"tablet_servers\":[],\"tablets\":[{\"tablet_id\":\"t-1\","
                        + "\"leader\":\"ts-b\",\"replicas\":[{\"server_uuid\":\"ts-a\",\"type\":\"VOTER\"},{\"server_uuid\":\"ts-b\",\"type\":\"VOTER\"}]}]}");
            }
        });
        web.start(java.net.InetAddress.getByName("127.0.0.1"), 0);
        kudu = new KuduConnector("127.0.0.1:7051,127.0.0.2:7051", List.of("127.0.0.1:" + web.getPort()), KuduBinary.at(script), null);
    }

    @AfterEach
    void stop() throws Exception {
        kudu.close();
        web.shutdown();
    }

    private String ran(Step step) throws Exception {
        Files.deleteIfExists(calls);
        try {
            kudu.execute(step, ClusterConnector.StepProgress.NONE);
        } catch (ConnectorException expected) {
            // The stand-in prints nothing, so a step that reads the CLI's answer fails after the call; the call is what counts.
        }
        List<String> lines = Files.readAllLines(calls);
        return "kudu " + lines.get(lines.size() - 1);
    }

    @Test
    void everyAuditedCommandIsTheCommandThatRan() throws Exception {
        ServerId x = ServerId.of("ts-x");
        List<Step> steps = List.of(
                Step.gate(0, null, "").withIndex(0),
                Step.server(0, StepType.ENTER_MAINTENANCE, x, "").withIndex(1),
                Step.server(0, StepType.EXIT_MAINTENANCE, x, "").withIndex(2),
                Step.transfer(0, PartitionId.of("t-1"), TableId.of("tb"), ServerId.of("ts-a"), ServerId.of("ts-b"), "").withIndex(3),
                Step.engineRebalance(0, List.of(x, ServerId.of("ts-y")), 0, "").withIndex(4));
        for (Step s : steps) {
            assertEquals(kudu.command(s), ran(s), s.describe());
        }
        // What the review found missing from the audit: ksck's timeout, the rebalancer's concurrency.
        assertEquals(true, kudu.command(steps.get(0)).contains("--timeout_ms=15000"));
        assertEquals(true, kudu.command(steps.get(4)).contains("--max_moves_per_server=5")
                && kudu.command(steps.get(4)).contains("--ignored_tservers=ts-x,ts-y"));
    }
}
