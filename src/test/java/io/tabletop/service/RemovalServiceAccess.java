package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.domain.CheckResult;

/** Test access to the service's health check. */
public final class RemovalServiceAccess {
    private RemovalServiceAccess() {
    }

    public static CheckResult health(ClusterConnector c) {
        return RemovalService.healthCheck(c);
    }
}
