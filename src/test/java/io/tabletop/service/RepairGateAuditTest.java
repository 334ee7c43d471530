package io.tabletop.service;

import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.sandbox.SandboxConnector;
import io.tabletop.connector.sandbox.SandboxFixtures;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.Replica;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.Server;
import io.tabletop.domain.Step;
import io.tabletop.store.AuditLog;
import io.tabletop.testing.DelegatingConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The health gate that repairs what a move cut short: a leader step-down does not go ahead without its audit record (issue 31). */
class RepairGateAuditTest {
    @TempDir
    Path dir;

    @Test
    void aStepDownWhoseAuditRecordCannotBeWrittenIsNotDone() throws Exception {
        Path log = dir.resolve("audit.jsonl");
        try (SandboxConnector sandbox = SandboxConnector.instant(SandboxFixtures.kuduBaseline())) {
            ClusterSnapshot c = sandbox.snapshot();
            // one partition with a voter too many, all on live servers: the gate is asked to repair it
            Partition p = c.partitions().get(0);
            Server extra = c.servers().stream().filter(s -> !p.isOn(s.id())).findFirst().orElseThrow();
            List<Replica> more = new ArrayList<>(p.replicas());
            more.add(new Replica(extra.id(), ReplicaRole.FOLLOWER));
            List<Partition> ps = new ArrayList<>(c.partitions());
            ps.set(0, p.withReplicas(more));
            ClusterSnapshot over = c.withPartitions(ps);

            AtomicBoolean steppedDown = new AtomicBoolean();
            DelegatingConnector gate = new DelegatingConnector(sandbox) {
                @Override
                public void execute(Step step, StepProgress progress) {
                    try { // the log becomes unwritable between the gate's record and its step-down's
                        Files.move(log, dir.resolve("audit.saved"));
                        Files.createDirectory(log);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    progress.action("step down the leader of " + p.id().value(), "kudu tablet leader_step_down …");
                    steppedDown.set(true);
                }
            };
            Runs runs = new Runs(dir.resolve("runs"), new AuditLog(log));
            ConnectorException e = assertThrows(ConnectorException.class, () -> runs.repairedOrAsIs(over, gate, "RUN-1"));
            assertFalse(steppedDown.get(), "the step-down did not go ahead without its record");
            assertTrue(e.getMessage().contains("not done") && e.getMessage().contains(log.toString()), e.getMessage());
        }
    }
}
