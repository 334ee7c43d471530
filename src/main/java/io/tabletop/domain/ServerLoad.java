package io.tabletop.domain;

/**
 * What one server holds.
 *
 * @param replicas    every copy it holds (leaders, followers, learners)
 * @param leaders     partitions it leads
 * @param bytes       sum of the sizes of the copies it holds (unknown sizes count as zero)
 * @param rows        rows of the partitions it leads (Couchbase: active items)
 * @param replicaRows rows of the copies it holds as a non-leader (Couchbase: replica items)
 */
public record ServerLoad(ServerId server, int replicas, int leaders, long bytes, long rows, long replicaRows) {
}
