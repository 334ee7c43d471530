package io.tabletop.connector.openmldb;

/** Seed 002's cluster for tests outside this package (the console's): three tablets, a ZooKeeper, the emulator. */
public final class OpenMldbTestCluster implements AutoCloseable {
    private final OpenMldbCluster cluster;

    private OpenMldbTestCluster(OpenMldbCluster cluster) {
        this.cluster = cluster;
    }

    public static OpenMldbTestCluster seed002() throws Exception {
        return new OpenMldbTestCluster(OpenMldbConnectorTest.seed002("sdefault", 1));
    }

    public String zkConnect() {
        return cluster.zkConnect();
    }

    public String spec() {
        return cluster.spec();
    }

    public void stopTablet(String endpoint) {
        try {
            cluster.ns.stopTablet(endpoint);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public String addTablet(int n) throws Exception {
        return cluster.ns.addTablet(n);
    }

    public int replicasOn(String endpoint) {
        return cluster.ns.loads().getOrDefault(endpoint, new int[2])[0];
    }

    public boolean autoFailover() {
        return cluster.ns.autoFailover();
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
