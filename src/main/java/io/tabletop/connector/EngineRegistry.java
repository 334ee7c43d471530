package io.tabletop.connector;

import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The engines Tabletop knows, in the order the console lists them. Built once by the application's root
 * ({@code io.tabletop.Main}) and handed to the command line, the console and the services; tests build
 * their own. Immutable; thread-safe.
 */
public final class EngineRegistry {
    private final List<EngineProvider> providers;

    public EngineRegistry(List<EngineProvider> providers) {
        this.providers = List.copyOf(providers);
        List<String> seen = new ArrayList<>();
        for (EngineProvider p : this.providers) {
            for (String s : p.schemes()) {
                if (seen.contains(s)) {
                    throw new IllegalArgumentException("two providers claim the scheme '" + s + "'");
                }
                seen.add(s);
            }
        }
    }

    public List<EngineProvider> providers() {
        return providers;
    }

    /** The provider whose spec this is. */
    public EngineProvider providerFor(String spec) {
        String s = spec == null ? "" : spec.strip();
        for (EngineProvider p : providers) {
            if (p.accepts(s)) {
                return p;
            }
        }
        throw new IllegalArgumentException("cannot understand connection '" + s + "' (expected "
                + providers.stream().map(EngineProvider::example).collect(Collectors.joining(", ")) + ")");
    }

    public Optional<EngineProvider> provider(Engine engine) {
        return providers.stream().filter(p -> p.engine() == engine).findFirst();
    }

    /** Parses a spec with the provider it belongs to. */
    public ConnectionSpec parse(String spec) {
        return providerFor(spec).parse(spec);
    }

    /** The rules to plan a saved snapshot of {@code engine} with; an engine with no provider here is refused. */
    public EngineCapabilities capabilities(Engine engine) {
        return provider(engine).map(EngineProvider::capabilities).orElseGet(() -> switch (engine) {
            // Snapshots of engines whose connectors are not plugged in yet still plan by their documented rules.
            case COUCHBASE -> EngineCapabilities.couchbase();
            case OPENMLDB -> EngineCapabilities.openmldb();
            default -> throw new IllegalArgumentException("no provider for engine " + engine.wireName());
        });
    }

    /** Every spec form this registry understands, for help texts. */
    public String examples() {
        return providers.stream().map(EngineProvider::example).collect(Collectors.joining(", "));
    }
}
