package io.tabletop.ui;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.HealthReport;
import io.tabletop.connector.SecretSource;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Partition;
import io.tabletop.domain.PartitionId;
import io.tabletop.domain.Server;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.Table;
import io.tabletop.domain.TableId;
import io.tabletop.domain.Verdict;
import io.tabletop.service.Connections;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.SimpleIntegerProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.collections.transformation.FilteredList;
import javafx.util.Duration;

import java.io.IOException;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The main window's state: the live servers and partitions (refreshed in the background every two
 * seconds, rows updated by key), filters, cluster health, and which servers are ticked for removal.
 * Properties are read and written on the FX thread only.
 */
public final class MainViewModel {
    public static final String ALL_TABLES = "All tables";
    public static final String ALL_SERVERS = "All servers";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final TaskRunner runner;
    private final Connections connections;

    /**
     * A cluster the console can show: a name, how to open it, and its spec where it has one ({@code null}
     * for a cluster that lives only in this console). {@code saved}: kept in the saved connections.
     */
    public record Connection(String name, String spec, boolean saved, Opener opener) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Asks the operator for a secret; runs on the FX thread; empty when they decline. */
    @FunctionalInterface
    public interface SecretPrompt {
        Optional<char[]> ask(String connection, SecretSource.Request request);
    }

    /** Opens a connector; runs in the background. */
    @FunctionalInterface
    public interface Opener {
        ClusterConnector open() throws Exception;
    }

    private final ObservableList<Connection> connectionList = FXCollections.observableArrayList();
    private SecretPrompt secretPrompt = (c, r) -> Optional.empty();
    private final ObjectProperty<Connection> current = new SimpleObjectProperty<>();
    private final Map<Connection, ClusterConnector> opened = new HashMap<>();
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final StringProperty busy = new SimpleStringProperty("");
    private final ObjectProperty<ClusterConnector> connector = new SimpleObjectProperty<>();
    private final ObjectProperty<ClusterSnapshot> snapshot = new SimpleObjectProperty<>();
    /** The snapshot as of the last change of placement or of the server list: what the chart, grid and heatmap draw. */
    private final ObjectProperty<ClusterSnapshot> placement = new SimpleObjectProperty<>();
    private final ObservableList<ServerRow> servers = FXCollections.observableArrayList();
    private final ObservableList<PartitionRow> partitions = FXCollections.observableArrayList();
    private final FilteredList<PartitionRow> visiblePartitions = new FilteredList<>(partitions);
    private final ObservableList<String> tableChoices = FXCollections.observableArrayList(ALL_TABLES);
    private final ObservableList<String> serverChoices = FXCollections.observableArrayList(ALL_SERVERS);
    private final StringProperty tableFilter = new SimpleStringProperty(ALL_TABLES);
    private final StringProperty serverFilter = new SimpleStringProperty(ALL_SERVERS);
    private final StringProperty healthText = new SimpleStringProperty("Connecting…");
    private final ObjectProperty<Verdict> health = new SimpleObjectProperty<>();
    private final StringProperty lastRefresh = new SimpleStringProperty("never");
    private final StringProperty error = new SimpleStringProperty("");
    private final StringProperty notice = new SimpleStringProperty("");
    private final IntegerProperty selectedCount = new SimpleIntegerProperty();
    private final Map<ServerId, ServerRow> serverIndex = new HashMap<>();
    private final Map<PartitionId, PartitionRow> partitionIndex = new HashMap<>();
    private final TaskRunner.Ticker poller;
    private boolean refreshing;

    public MainViewModel(TaskRunner runner, Connections connections, String connectionName, ClusterConnector initial) {
        this.runner = runner;
        this.connections = connections;
        Connection first = new Connection(connectionName, null, false, () -> initial);
        connectionList.add(first);
        if (initial != null) {
            opened.put(first, initial);
        }
        current.set(first);
        connector.set(initial);
        tableFilter.addListener((o, a, b) -> applyFilter());
        serverFilter.addListener((o, a, b) -> applyFilter());
        poller = runner.every(java.time.Duration.ofSeconds(2), this::refresh);
    }

    // ---- commands -----------------------------------------------------------------------------

    public void startPolling() {
        refresh();
        poller.start();
    }

    public void stopPolling() {
        poller.stop();
    }

    /** Reads snapshot and health in the background; skipped if a refresh is already under way. */
    public void refresh() {
        ClusterConnector c = connector.get();
        if (c == null || refreshing) {
            return;
        }
        refreshing = true;
        ClusterSnapshot last = snapshot.get();
        runner.background("refresh " + c.name(), () -> {
            HealthReport h = c.health(); // first: a snapshot may reuse what the health check just read
            return Read.of(c.snapshot(), h, last);
        }, r -> {
            refreshing = false;
            if (c != connector.get()) {
                return; // the operator switched clusters meanwhile
            }
            apply(r);
            error.set("");
        }, t -> {
            refreshing = false;
            if (c != connector.get()) {
                return;
            }
            error.set(Errors.oneLine(t));
            healthText.set("Cannot read the cluster: " + Errors.oneLine(t));
            health.set(Verdict.BLOCK);
        });
    }

    /** Adds a connection that lives only in this console (a local cluster it started); not saved. */
    public Connection addConnection(String name, Opener opener) {
        for (Connection c : connectionList) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        Connection c = new Connection(name, null, false, opener);
        connectionList.add(c);
        return c;
    }

    /**
     * Adds a connection by its spec (not opened until selected). Where its engine asks for a secret, the
     * secret comes from the engine's environment variable, else from {@code secret} (what the operator typed
     * in the connection dialog), else from the secret prompt when the connection is opened. It stays in
     * memory only.
     *
     * @throws IllegalArgumentException when the spec does not parse
     */
    public Connection addSpec(String name, String spec, boolean save, char[] secret) {
        connections.registry().parse(spec);
        for (Connection c : connectionList) {
            if (spec.equals(c.spec())) {
                return c;
            }
        }
        SecretHolder held = new SecretHolder(secret);
        Connection c = new Connection(name, spec, save, () -> connections.open(spec, held, false));
        connectionList.add(c);
        secrets.put(c, held);
        return c;
    }

    public void setSecretPrompt(SecretPrompt prompt) {
        this.secretPrompt = prompt;
    }

    /** A connection's secret in memory: from the environment, what was typed, or the prompt; never written. */
    private static final class SecretHolder implements SecretSource {
        private volatile char[] typed;

        SecretHolder(char[] typed) {
            this.typed = typed == null || typed.length == 0 ? null : typed.clone();
        }

        @Override
        public Optional<char[]> secret(Request r) {
            Optional<char[]> env = SecretSource.ENVIRONMENT.secret(r);
            if (env.isPresent()) {
                return env;
            }
            char[] t = typed;
            return t == null ? Optional.empty() : Optional.of(t.clone());
        }

        boolean has(Request r) {
            return typed != null || SecretSource.ENVIRONMENT.secret(r).isPresent();
        }
    }

    private final Map<Connection, SecretHolder> secrets = new HashMap<>();

    /** Whether opening {@code c} would ask for a password first. */
    public boolean needsSecret(Connection c) {
        return c.spec() != null && connections.secretFor(c.spec()).isPresent();
    }

    /** Switches the console to another cluster; opens it in the background the first time. */
    public void select(Connection c) {
        if (c == null || c.equals(current.get())) {
            return;
        }
        current.set(c);
        ClusterConnector known = opened.get(c);
        if (known != null) {
            show(known);
            return;
        }
        SecretHolder held = secrets.get(c);
        if (held != null && c.spec() != null) {
            Optional<SecretSource.Request> wanted = connections.secretFor(c.spec());
            if (wanted.isPresent() && !held.has(wanted.get())) {
                Optional<char[]> typed = secretPrompt.ask(c.name(), wanted.get());
                if (typed.isEmpty()) {
                    error.set("Not connected to " + c.name() + ": no password given (or set " + wanted.get().environmentVariable() + ")");
                    return;
                }
                held.typed = typed.get();
            }
        }
        connector.set(null);
        clearRows();
        healthText.set("Opening " + c.name() + "…");
        health.set(null);
        busy.set("Opening " + c.name() + "…");
        runner.background("open " + c.name(), c.opener()::open, k -> {
            busy.set("");
            opened.put(c, k);
            if (c.equals(current.get())) {
                show(k);
            }
        }, t -> {
            busy.set("");
            error.set("Cannot open " + c.name() + ": " + Errors.oneLine(t));
            healthText.set("Not connected");
            if (held != null && t instanceof ConnectorException ce && ce.kind() == ConnectorException.Kind.REFUSED) {
                held.typed = null; // a wrong password is asked for again next time
            }
        });
    }

    private void show(ClusterConnector k) {
        clearRows();
        connector.set(k);
        refresh();
    }

    private void clearRows() {
        servers.clear();
        serverIndex.clear();
        partitions.clear();
        partitionIndex.clear();
        snapshot.set(null);
        placement.set(null);
        error.set("");
        recount();
    }

    /** Saves the connections marked saved (names and specs only, never a secret) in the user's config directory. */
    public void saveConnections() {
        try {
            connections.save(connectionList.stream().filter(Connection::saved).map(c -> new Connections.Saved(c.name(), c.spec())).toList());
        } catch (IOException | RuntimeException e) {
            error.set("Cannot save connections: " + Errors.oneLine(e));
        }
    }

    /** Adds the saved connections of every engine; a broken file or spec is reported, not fatal. */
    public void loadSavedConnections() {
        try {
            List<String> problems = new ArrayList<>();
            for (Connections.Saved s : connections.loadSaved(problems)) {
                addSpec(s.name(), s.spec(), true, null);
            }
            if (!problems.isEmpty()) {
                error.set("Skipped saved connections: " + String.join("; ", problems));
            }
        } catch (Exception e) {
            error.set("Cannot read saved connections: " + Errors.oneLine(e));
        }
    }

    /** The engines, for the connection dialog and the local-cluster buttons. */
    public Connections engines() {
        return connections;
    }

    /** Keeps a resource (a local cluster the console started) until {@link #close()}. */
    public void own(AutoCloseable resource) {
        owned.add(resource);
    }

    /** Closes every connector opened and everything owned (local clusters stop). */
    public void close() {
        stopPolling();
        for (ClusterConnector k : opened.values()) {
            k.close();
        }
        opened.clear();
        for (AutoCloseable a : owned) {
            try {
                a.close();
            } catch (Exception e) {
                Logger.getLogger(MainViewModel.class.getName()).log(Level.WARNING, "close", e);
            }
        }
        owned.clear();
    }

    public ObjectProperty<Connection> currentProperty() {
        return current;
    }

    public StringProperty busyProperty() {
        return busy;
    }

    /** Filters the partitions view to the partitions with a replica on {@code id}. */
    public void showPartitionsOf(ServerId id) {
        serverFilter.set(id.value());
    }

    public List<ServerId> selectedServers() {
        return servers.stream().filter(r -> r.selectedProperty().get()).map(ServerRow::id).toList();
    }

    public void clearSelection() {
        servers.forEach(r -> r.selectedProperty().set(false));
    }

    // ---- applying a snapshot ----------------------------------------------------------------------

    private LongConsumer applyObserver = n -> {
    };

    /** Told how long each refresh held the FX thread to apply its snapshot, in nanoseconds (the UI benchmark). */
    void setApplyObserver(LongConsumer observer) {
        applyObserver = observer;
    }

    /**
     * One refresh, prepared off the FX thread: the snapshot, its loads, and what changed since the snapshot
     * shown now ({@code changed} null: everything, as on the first read or when tables or servers changed).
     */
    record Read(ClusterSnapshot snapshot, HealthReport health, Map<ServerId, ServerLoad> loads, List<Partition> changed,
                Set<PartitionId> removed) {
        static Read of(ClusterSnapshot s, HealthReport h, ClusterSnapshot last) {
            Map<ServerId, ServerLoad> loads = s.loads();
            if (last == null || !last.tables().equals(s.tables())) {
                return new Read(s, h, loads, null, Set.of());
            }
            List<Partition> changed = new ArrayList<>();
            for (Partition p : s.partitions()) {
                Partition before = last.partition(p.id()).orElse(null);
                if (before != p && !p.equals(before)) {
                    changed.add(p);
                }
            }
            Set<PartitionId> removed = new HashSet<>();
            // Additions are among the changed; with none changed, a partition went only if the count fell.
            if (!changed.isEmpty() || last.partitions().size() != s.partitions().size()) {
                for (Partition p : last.partitions()) {
                    if (s.partition(p.id()).isEmpty()) {
                        removed.add(p.id());
                    }
                }
            }
            return new Read(s, h, loads, changed, removed);
        }

        boolean placementChanged() {
            return changed == null || !changed.isEmpty() || !removed.isEmpty();
        }
    }

    /** As a refresh applies what it read: against the snapshot shown now. */
    void apply(ClusterSnapshot s, HealthReport h) {
        apply(Read.of(s, h, snapshot.get()));
    }

    private void apply(Read r) {
        long t0 = System.nanoTime();
        applyNow(r);
        applyObserver.accept(System.nanoTime() - t0);
    }

    private void applyNow(Read r) {
        ClusterSnapshot s = r.snapshot();
        HealthReport h = r.health();
        boolean serversChanged = snapshot.get() == null || !sameServerIds(snapshot.get(), s);
        snapshot.set(s);
        Map<ServerId, ServerLoad> loads = r.loads();
        Set<ServerId> seen = new HashSet<>();
        List<ServerRow> added = new ArrayList<>();
        for (Server server : s.servers()) {
            seen.add(server.id());
            ServerRow row = serverIndex.get(server.id());
            if (row == null) {
                row = new ServerRow(server.id());
                row.selectedProperty().addListener((o, a, b) -> recount());
                serverIndex.put(server.id(), row);
                added.add(row);
            }
            row.update(server, loads.get(server.id()));
        }
        servers.removeIf(x -> !seen.contains(x.id()) && serverIndex.remove(x.id()) != null);
        servers.addAll(added);
        recount();

        Map<TableId, String> tableNames = new HashMap<>();
        for (Table t : s.tables()) {
            tableNames.put(t.id(), t.name());
        }
        if (r.placementChanged()) {
            List<PartitionRow> addedP = new ArrayList<>();
            for (Partition p : r.changed() == null ? s.partitions() : r.changed()) {
                PartitionRow row = partitionIndex.get(p.id());
                if (row == null) {
                    row = new PartitionRow(p.id().value());
                    partitionIndex.put(p.id(), row);
                    addedP.add(row);
                }
                row.update(p, tableNames.get(p.table()));
            }
            if (r.changed() == null) {
                Set<PartitionId> seenP = new HashSet<>();
                s.partitions().forEach(p -> seenP.add(p.id()));
                partitions.removeIf(x -> !seenP.contains(x.partitionId()) && partitionIndex.remove(x.partitionId()) != null);
            } else if (!r.removed().isEmpty()) {
                partitions.removeIf(x -> r.removed().contains(x.partitionId()) && partitionIndex.remove(x.partitionId()) != null);
            }
            partitions.addAll(addedP);
            syncChoices(tableChoices, ALL_TABLES, s.tables().stream().map(Table::name).toList());
            applyFilter();
        }
        if (serversChanged) {
            syncChoices(serverChoices, ALL_SERVERS, s.servers().stream().map(x -> x.id().value()).toList());
        }
        if (r.placementChanged() || serversChanged) {
            placement.set(s);
        }

        health.set(h.verdict());
        // which member answers (Couchbase: it changes when the node typed leaves the cluster); a field read, no I/O
        ClusterConnector k = connector.get();
        healthText.set(h.summary() + (k == null ? "" : k.talkingTo().map(a -> " · through " + a).orElse("")));
        lastRefresh.set(LocalTime.now().format(TIME));
    }

    private static boolean sameServerIds(ClusterSnapshot a, ClusterSnapshot b) {
        if (a.servers().size() != b.servers().size()) {
            return false;
        }
        for (int i = 0; i < a.servers().size(); i++) {
            if (!a.servers().get(i).id().equals(b.servers().get(i).id())) {
                return false;
            }
        }
        return true;
    }

    private static void syncChoices(ObservableList<String> list, String all, List<String> values) {
        List<String> want = new ArrayList<>();
        want.add(all);
        want.addAll(values);
        if (!list.equals(want)) {
            list.setAll(want);
        }
    }

    private void recount() {
        selectedCount.set((int) servers.stream().filter(r -> r.selectedProperty().get()).count());
    }

    private void applyFilter() {
        String t = tableFilter.get();
        String sv = serverFilter.get();
        ServerId server = sv == null || sv.equals(ALL_SERVERS) ? null : ServerId.of(sv);
        visiblePartitions.setPredicate(r -> (t == null || t.equals(ALL_TABLES) || t.equals(r.tableName()))
                && (server == null || (r.partition() != null && r.partition().isOn(server))));
    }

    // ---- properties ----------------------------------------------------------------------------------

    public ObservableList<Connection> connections() {
        return connectionList;
    }

    public ReadOnlyObjectProperty<ClusterConnector> connectorProperty() {
        return connector;
    }

    public ReadOnlyObjectProperty<ClusterSnapshot> snapshotProperty() {
        return snapshot;
    }

    /** Changes only when partitions moved or servers came or went; views that draw placement listen here. */
    public ReadOnlyObjectProperty<ClusterSnapshot> placementProperty() {
        return placement;
    }

    public ObservableList<ServerRow> servers() {
        return servers;
    }

    public ObservableList<PartitionRow> partitions() {
        return visiblePartitions;
    }

    public int partitionCount() {
        return partitions.size();
    }

    public ObservableList<String> tableChoices() {
        return tableChoices;
    }

    public ObservableList<String> serverChoices() {
        return serverChoices;
    }

    public StringProperty tableFilterProperty() {
        return tableFilter;
    }

    public StringProperty serverFilterProperty() {
        return serverFilter;
    }

    public StringProperty healthTextProperty() {
        return healthText;
    }

    public ReadOnlyObjectProperty<Verdict> healthProperty() {
        return health;
    }

    public StringProperty lastRefreshProperty() {
        return lastRefresh;
    }

    public StringProperty errorProperty() {
        return error;
    }

    /** A one-line note for the operator that is not an error ("ts-7 joined the cluster"). */
    public StringProperty noticeProperty() {
        return notice;
    }

    public IntegerProperty selectedCountProperty() {
        return selectedCount;
    }
}
