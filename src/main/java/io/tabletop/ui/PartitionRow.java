package io.tabletop.ui;

import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

import java.util.stream.Collectors;

/**
 * One line of the partitions view, updated in place by key. Its properties are made the first time a
 * cell asks for them: a table shows a few dozen rows of 100,000, and only those pay for properties and
 * the strings they hold. FX thread only.
 */
public final class PartitionRow {
    private final String id;
    private Partition partition;
    private String tableName;
    private Props props;

    /** The properties of a row a cell has shown. */
    private static final class Props {
        final StringProperty table = new SimpleStringProperty();
        final StringProperty leader = new SimpleStringProperty();
        final StringProperty followers = new SimpleStringProperty();
        final StringProperty learners = new SimpleStringProperty();
        final ObjectProperty<Long> size = new SimpleObjectProperty<>();
    }

    public PartitionRow(String id) {
        this.id = id;
    }

    void update(Partition p, String tableName) {
        partition = p;
        this.tableName = tableName;
        if (props != null) {
            fill(props);
        }
    }

    private void fill(Props x) {
        x.table.set(tableName);
        x.leader.set(partition == null ? "" : partition.leader().map(ServerId::value).orElse(""));
        x.followers.set(partition == null ? "" : join(partition, ReplicaRole.FOLLOWER));
        x.learners.set(partition == null ? "" : joinNotServing(partition));
        x.size.set(partition == null ? null : partition.sizeBytes());
    }

    private Props props() {
        if (props == null) {
            props = new Props();
            fill(props);
        }
        return props;
    }

    /** Learners by name; a stale copy (listed by the engine, not serving) with "(stale)" after its server. */
    private static String joinNotServing(Partition p) {
        return p.replicas().stream().filter(r -> !r.role().isVoter())
                .map(r -> r.server().value() + (r.role() == ReplicaRole.STALE ? " (stale)" : "")).collect(Collectors.joining(", "));
    }

    private static String join(Partition p, ReplicaRole role) {
        return p.replicas().stream().filter(r -> r.role() == role).map(r -> r.server().value()).collect(Collectors.joining(", "));
    }

    public String id() {
        return id;
    }

    /** The partition's id as the domain types it (the row's key). */
    public PartitionId partitionId() {
        return partition != null ? partition.id() : PartitionId.of(id);
    }

    public Partition partition() {
        return partition;
    }

    /** The table's name, without making the row's properties. */
    public String tableName() {
        return tableName;
    }

    public StringProperty tableProperty() {
        return props().table;
    }

    public StringProperty leaderProperty() {
        return props().leader;
    }

    public StringProperty followersProperty() {
        return props().followers;
    }

    public StringProperty learnersProperty() {
        return props().learners;
    }

    public ObjectProperty<Long> sizeProperty() {
        return props().size;
    }
}
