package io.tabletop.planner;

import io.tabletop.domain.ClusterSnapshot;

/** Lets tests in other packages use the seed-001 Couchbase cluster. */
public final class CouchbasePredictionTestAccess {
    private CouchbasePredictionTestAccess() {
    }

    public static ClusterSnapshot seed001() {
        return CouchbasePredictionTest.seed001();
    }
}
