package io.tabletop.connector.kudu;

/** {@link KuduDrainTest}'s wait for a settled cluster, for tests in other packages. */
public final class KuduDrainTestAccess {
    private KuduDrainTestAccess() {
    }

    /** Waits (at most 60 s) for ksck to call a freshly loaded cluster healthy. */
    public static void awaitHealthy(KuduConnector kudu) throws Exception {
        KuduDrainTest.awaitHealthy(kudu);
    }
}
