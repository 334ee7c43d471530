package io.tabletop.connector.openmldb;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.SecretSource;
import io.tabletop.domain.Step;
import io.tabletop.domain.StepType;
import io.tabletop.emulator.NameServerEmulator;
import io.tabletop.executor.ExecutionListener;
import io.tabletop.executor.StepState;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

import java.io.File;
import java.nio.file.Files;
import java.util.Map;
import java.util.Optional;

/** A real ZooKeeper on 127.0.0.1 and the nameserver emulator registered in it: seed 002's three tablets. */
final class OpenMldbCluster implements AutoCloseable {
    final TestingServer zk;
    final NameServerEmulator ns;

    OpenMldbCluster(String authorization, int nameservers, long tickMillis) throws Exception {
        this(authorization, nameservers, tickMillis, null);
    }

    OpenMldbCluster(String authorization, int nameservers, long tickMillis, String zkDigest) throws Exception {
        File dir = Files.createTempDirectory("tabletop-zk").toFile();
        InstanceSpec spec = new InstanceSpec(dir, -1, -1, -1, true, 1, -1, -1, Map.of("clientPortAddress", "127.0.0.1"), "127.0.0.1");
        zk = new TestingServer(spec, true);
        try {
            ns = new NameServerEmulator(zkConnect(), "/openmldb", authorization, nameservers, tickMillis, zkDigest);
        } catch (Exception e) {
            zk.close();
            throw e;
        }
    }

    String zkConnect() {
        return "127.0.0.1:" + zk.getPort();
    }

    String spec() {
        return "openmldb://" + zkConnect() + "/openmldb";
    }

    ClusterConnector open(String spec, String password) throws Exception {
        return open(spec, password, null);
    }

    /** With {@code zkPassword} answering the ZooKeeper digest request, {@code password} the nameserver's. */
    ClusterConnector open(String spec, String password, String zkPassword) throws Exception {
        OpenMldbProvider p = new OpenMldbProvider();
        SecretSource s = r -> {
            String v = r.environmentVariable().equals(OpenMldbProvider.ZK_PASSWORD_VARIABLE) ? zkPassword : password;
            return v == null ? Optional.empty() : Optional.of(v.toCharArray());
        };
        return p.open(p.parse(spec), new EngineProvider.OpenOptions(s, false));
    }

    /** Plays the operator during a run: stops a tablet when the run's stop step for it starts, as its command asks. */
    class Operator implements ExecutionListener {
        @Override
        public void stepStateChanged(Step step, StepState from, StepState to, String message) {
            if (step.type() == StepType.STOP_SERVER && to == StepState.RUNNING) {
                try {
                    ns.stopTablet(step.server().value());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    Operator operator() {
        return new Operator();
    }

    @Override
    public void close() throws Exception {
        try {
            ns.close();
        } finally {
            zk.close();
        }
    }
}
