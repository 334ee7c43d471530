package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.connector.ConnectionSpec;
import io.tabletop.connector.ConnectorException;
import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.EngineRegistry;
import io.tabletop.connector.SecretSource;
import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;
import io.tabletop.store.ConnectionStore;
import io.tabletop.store.FormatException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Opens connections from their spec through the engine registry, and keeps the connections the operator
 * saved (names and specs: addresses and user names, never a secret). Thread-safe.
 */
public final class Connections {
    private final EngineRegistry registry;
    private final ConnectionStore store;

    public Connections(EngineRegistry registry) {
        this(registry, new ConnectionStore(ConnectionStore.defaultFile()));
    }

    public Connections(EngineRegistry registry, ConnectionStore store) {
        this.registry = registry;
        this.store = store;
    }

    /** A saved connection: a name and a spec (addresses and user names; never a secret). */
    public record Saved(String name, String spec) {
    }

    public EngineRegistry registry() {
        return registry;
    }

    /**
     * Parses and opens a spec. A spec that does not parse is an {@link IllegalArgumentException} with the
     * reason; a cluster that cannot be reached, a {@link ConnectorException}.
     */
    public ClusterConnector open(String spec, SecretSource secrets, boolean stopLocal) throws ConnectorException {
        EngineProvider p = registry.providerFor(spec);
        ConnectionSpec parsed = p.parse(spec);
        if (stopLocal && p.localClusters().isEmpty()) {
            throw new IllegalArgumentException("--stop-local: " + p.displayName() + " has no local clusters that Tabletop starts");
        }
        List<String> remembered = store.members(parsed.text());
        ClusterConnector c = p.open(remembered.isEmpty() ? parsed : p.withMembers(parsed, remembered),
                new EngineProvider.OpenOptions(secrets, stopLocal));
        rememberMembers(parsed.text(), c);
        return c;
    }

    /**
     * Keeps the members the connector learned for the next start, under the spec as typed: when the node
     * it names has left the cluster (a removal through it), the next open reaches a member that stays.
     */
    public void rememberMembers(String spec, ClusterConnector c) {
        List<String> learned = c.learnedMembers();
        if (learned.isEmpty() || learned.equals(store.members(spec))) {
            return;
        }
        try {
            store.rememberMembers(spec, learned);
        } catch (IOException e) {
            java.util.logging.Logger.getLogger(Connections.class.getName()).log(java.util.logging.Level.INFO,
                    "cannot remember the members of " + spec, e);
        }
    }

    /** Opens with secrets from the environment only. */
    public ClusterConnector open(String spec) throws ConnectorException {
        return open(spec, SecretSource.ENVIRONMENT, false);
    }

    /** The secret this spec's engine asks for, if any. */
    public Optional<SecretSource.Request> secretFor(String spec) {
        EngineProvider p = registry.providerFor(spec);
        return p.secret(p.parse(spec));
    }

    /** The rules to plan a saved snapshot with, when no live connector is at hand. */
    public EngineCapabilities capabilitiesFor(Engine engine) {
        return registry.capabilities(engine);
    }

    /**
     * The saved connections whose specs still parse; the others are named in {@code problems} (a spec
     * saved by a version that knew an engine this one does not).
     */
    public List<Saved> loadSaved(List<String> problems) throws IOException, FormatException {
        List<Saved> out = new ArrayList<>();
        for (ConnectionStore.Saved s : store.load()) {
            try {
                registry.parse(s.spec());
                out.add(new Saved(s.name(), s.spec()));
            } catch (IllegalArgumentException e) {
                problems.add(s.name() + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** Saves these connections (each spec is checked first: a spec never carries a secret). */
    public void save(List<Saved> connections) throws IOException {
        for (Saved s : connections) {
            registry.parse(s.spec());
        }
        store.save(connections.stream().map(s -> new ConnectionStore.Saved(s.name(), s.spec())).toList());
    }
}
