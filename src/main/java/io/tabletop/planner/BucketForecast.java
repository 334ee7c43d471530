package io.tabletop.planner;

import io.tabletop.domain.ServerId;
import io.tabletop.domain.TableId;

import java.util.List;

/**
 * What one bucket looks like before and after an engine-run rebalance (Couchbase): per node, active and
 * replica vBuckets and the items in them, and how many replicas the bucket really keeps (R replicas need
 * R+1 data nodes; below that Couchbase keeps as many as fit and restores the rest on a later rebalance).
 *
 * @param copiesToBuild vBucket copies that must be built on a node that did not hold them
 * @param takeovers     vBuckets whose active copy changes node
 */
public record BucketForecast(TableId bucket, String name, int vbuckets, int replicasWanted, int replicasKept,
                             int copiesToBuild, int takeovers, List<Node> nodes) {
    public BucketForecast {
        nodes = List.copyOf(nodes);
    }

    /** One node; the "after" counts are zero for a node that leaves. */
    public record Node(ServerId server, boolean leaves, int activeBefore, int replicasBefore, long activeItemsBefore,
                       long replicaItemsBefore, int activeAfter, int replicasAfter, long activeItemsAfter,
                       long replicaItemsAfter) {
    }

    public long activeItemsAfter() {
        return nodes.stream().mapToLong(Node::activeItemsAfter).sum();
    }

    public long replicaItemsAfter() {
        return nodes.stream().mapToLong(Node::replicaItemsAfter).sum();
    }

    public long replicaItemsBefore() {
        return nodes.stream().mapToLong(Node::replicaItemsBefore).sum();
    }
}
