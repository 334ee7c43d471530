package io.tabletop.connector.openmldb;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Finds the leading nameserver the way OpenMLDB's own clients do (src/docs/openmldb.md, "Finding the leader"):
 * the smallest child of {@code ROOT/leader} (ephemeral sequential {@code lock_request…} nodes, fixed-width, so a string
 * sort is a numeric one) holds its endpoint, mapped through {@code ROOT/map/names/NAME} when servers run
 * with names. Uses the ZooKeeper client (getChildren, getData, exists only: these work against the 3.4
 * ensembles OpenMLDB recommends). Asked again whenever a call says "nameserver is not leader". Thread-safe.
 */
final class OpenMldbLeader implements AutoCloseable {
    private final String connect;
    private final String root;
    private final ZooKeeper zk;

    /**
     * @param digest {@code user:password} for ZooKeeper's digest scheme (OpenMLDB's {@code --zk_cert}), or
     *               null; held by the ZooKeeper client only
     */
    OpenMldbLeader(String connect, String root, String digest) throws ConnectorException {
        this.connect = connect;
        this.root = root;
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper z;
        try {
            z = new ZooKeeper(connect, 10_000, e -> {
                if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                    connected.countDown();
                }
            });
        } catch (IOException | IllegalArgumentException e) {
            throw new ConnectorException(Engine.OPENMLDB, "connect", "bad ZooKeeper address " + connect + ": " + e.getMessage(), false, e);
        }
        try {
            if (!connected.await(3, TimeUnit.SECONDS)) {
                close(z);
                throw new ConnectorException(Engine.OPENMLDB, "connect", "ZooKeeper at " + connect + " did not answer within 3 s", true, null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close(z);
            throw new ConnectorException(Engine.OPENMLDB, "connect", "interrupted while connecting to ZooKeeper", true, e);
        }
        if (digest != null) {
            z.addAuthInfo("digest", digest.getBytes(StandardCharsets.UTF_8));
        }
        this.zk = z;
    }

    private static void close(ZooKeeper z) {
        try {
            z.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The leading nameserver's {@code host:port}. */
    String endpoint() throws ConnectorException {
        try {
            if (zk.exists(root, false) == null) {
                throw new ConnectorException(Engine.OPENMLDB, "find the nameserver", "no OpenMLDB under " + root + " in ZooKeeper at "
                        + connect + " (check the root path)");
            }
            List<String> children = zk.exists(root + "/leader", false) == null ? List.of() : new ArrayList<>(zk.getChildren(root + "/leader", false));
            if (children.isEmpty()) {
                throw new ConnectorException(Engine.OPENMLDB, "find the nameserver", "no nameserver leader is registered under " + root
                        + "/leader (is a nameserver running?)", true, null);
            }
            List<String> sorted = new ArrayList<>(children);
            Collections.sort(sorted);
            String name = new String(zk.getData(root + "/leader/" + sorted.get(0), false, null), StandardCharsets.UTF_8).strip();
            String mapped = root + "/map/names/" + name;
            if (zk.exists(mapped, false) != null) {
                return new String(zk.getData(mapped, false, null), StandardCharsets.UTF_8).strip();
            }
            return name;
        } catch (KeeperException.NoNodeException e) {
            throw new ConnectorException(Engine.OPENMLDB, "find the nameserver", "the leader changed while it was read; try again", true, e);
        } catch (KeeperException.NoAuthException e) {
            throw new ConnectorException(Engine.OPENMLDB, "find the nameserver", "ZooKeeper refused to show " + root + " (the cluster sets "
                    + "--zk_cert: add ?zk_user=USER to the connection and give the password in " + OpenMldbProvider.ZK_PASSWORD_VARIABLE
                    + ", or a wrong one was given)", ConnectorException.Kind.REFUSED, e);
        } catch (KeeperException e) {
            throw new ConnectorException(Engine.OPENMLDB, "find the nameserver", "ZooKeeper: " + e.getMessage(), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectorException(Engine.OPENMLDB, "find the nameserver", "interrupted", true, e);
        }
    }

    @Override
    public void close() {
        close(zk);
    }
}
