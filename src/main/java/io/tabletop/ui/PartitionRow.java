package io.tabletop.ui;

import io.tabletop.domain.Partition;
import io.tabletop.domain.ReplicaRole;
import io.tabletop.domain.ServerId;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

import java.util.stream.Collectors;

/** One line of the partitions view, updated in place by key. */
public final class PartitionRow {
    private final String id;
    private final StringProperty table = new SimpleStringProperty();
    private final StringProperty leader = new SimpleStringProperty();
    private final StringProperty followers = new SimpleStringProperty();
    private final StringProperty learners = new SimpleStringProperty();
    private final ObjectProperty<Long> size = new SimpleObjectProperty<>();
    private Partition partition;

    public PartitionRow(String id) {
        this.id = id;
    }

    void update(Partition p, String tableName) {
        partition = p;
        table.set(tableName);
        leader.set(p.leader().map(ServerId::value).orElse(""));
        followers.set(join(p, ReplicaRole.FOLLOWER));
        learners.set(join(p, ReplicaRole.LEARNER));
        size.set(p.sizeBytes());
    }

    private static String join(Partition p, ReplicaRole role) {
        return p.replicas().stream().filter(r -> r.role() == role).map(r -> r.server().value()).collect(Collectors.joining(", "));
    }

    public String id() {
        return id;
    }

    public Partition partition() {
        return partition;
    }

    public StringProperty tableProperty() {
        return table;
    }

    public StringProperty leaderProperty() {
        return leader;
    }

    public StringProperty followersProperty() {
        return followers;
    }

    public StringProperty learnersProperty() {
        return learners;
    }

    public ObjectProperty<Long> sizeProperty() {
        return size;
    }
}
