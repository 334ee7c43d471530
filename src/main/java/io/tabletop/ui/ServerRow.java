package io.tabletop.ui;

import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.ServerState;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.LongProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleIntegerProperty;
import javafx.beans.property.SimpleLongProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

/** One line of the servers table; updated in place by key so selection and scroll survive a refresh. */
public final class ServerRow {
    private final ServerId id;
    private final BooleanProperty selected = new SimpleBooleanProperty();
    private final StringProperty address = new SimpleStringProperty();
    private final StringProperty location = new SimpleStringProperty();
    private final ObjectProperty<ServerState> state = new SimpleObjectProperty<>();
    private final IntegerProperty replicas = new SimpleIntegerProperty();
    private final IntegerProperty leaders = new SimpleIntegerProperty();
    private final LongProperty bytes = new SimpleLongProperty();
    private final ObjectProperty<Long> heartbeat = new SimpleObjectProperty<>();
    private boolean holdsData = true;

    public ServerRow(ServerId id) {
        this.id = id;
    }

    void update(Server s, ServerLoad load) {
        address.set(s.address());
        holdsData = s.holdsData();
        String services = s.services().isEmpty() ? "" : String.join(", ", s.services()) + (s.holdsData() ? "" : " (holds no data)");
        location.set(s.location() == null ? services : services.isEmpty() ? s.location() : s.location() + " · " + services);
        state.set(s.state());
        replicas.set(load.replicas());
        leaders.set(load.leaders());
        bytes.set(load.bytes());
        // Whole seconds: heartbeats come every second, so "< 1 s" is all a healthy server needs to say, and a
        // value that does not change between refreshes costs the table no re-layout.
        Long hb = s.heartbeatAgeMillis();
        heartbeat.set(hb == null ? null : hb < 1000 ? 0L : hb / 1000 * 1000);
    }

    /** A live server that holds nothing: one that just joined, which a scale-out fills. */
    public boolean isNewAndEmpty() {
        return state.get() == ServerState.LIVE && replicas.get() == 0 && holdsData;
    }

    public ServerId id() {
        return id;
    }

    public BooleanProperty selectedProperty() {
        return selected;
    }

    public StringProperty addressProperty() {
        return address;
    }

    public StringProperty locationProperty() {
        return location;
    }

    public ObjectProperty<ServerState> stateProperty() {
        return state;
    }

    public IntegerProperty replicasProperty() {
        return replicas;
    }

    public IntegerProperty leadersProperty() {
        return leaders;
    }

    public LongProperty bytesProperty() {
        return bytes;
    }

    public ObjectProperty<Long> heartbeatProperty() {
        return heartbeat;
    }
}
