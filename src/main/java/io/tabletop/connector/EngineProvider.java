package io.tabletop.connector;

import io.tabletop.domain.Engine;
import io.tabletop.domain.EngineCapabilities;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One engine, plugged in: its URI scheme(s), how a connection spec reads, the fields of its connection
 * form, how a connector opens, what the engine can do, and optionally a local cluster it can start.
 * One implementation lives in each {@code connector.<engine>} package; {@link EngineRegistry} lists them.
 * The console, the command line and the services only ever talk to this interface.
 *
 * <p>Implementations are stateless and thread-safe.
 */
public interface EngineProvider {
    Engine engine();

    /** For people: "Apache Kudu", "Sandbox (built-in)". */
    String displayName();

    /** The schemes a spec of this engine starts with: {@code kudu} for {@code kudu://…}. */
    List<String> schemes();

    /** An example spec, shown in help and in error messages. */
    String example();

    /** Whether {@code spec} is this engine's: it starts with one of the schemes, then {@code ://} or {@code :}, or is the scheme alone. */
    default boolean accepts(String spec) {
        String s = spec.strip().toLowerCase(Locale.ROOT);
        for (String scheme : schemes()) {
            if (s.equals(scheme) || s.startsWith(scheme + "://") || s.startsWith(scheme + ":")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Parses a spec of this engine.
     *
     * @throws IllegalArgumentException with one line that says what is wrong and what a right one looks like
     */
    ConnectionSpec parse(String spec);

    /** Opens a connector. The secret, where the engine needs one, comes from {@code options.secrets()}. */
    ClusterConnector open(ConnectionSpec spec, OpenOptions options) throws ConnectorException;

    /** The engine's rules, for planning a saved snapshot with no live connector at hand. */
    EngineCapabilities capabilities();

    /** The connection form's fields, in order. */
    ConnectionForm form();

    /**
     * The spec the form's values make (the secret field is not part of it).
     *
     * @throws IllegalArgumentException naming the field that is wrong
     */
    String specFrom(Map<String, String> values);

    /** The secret this engine asks for, if any: the environment variable and the prompt. */
    default Optional<SecretSource.Request> secret(ConnectionSpec spec) {
        return Optional.empty();
    }

    /** Real clusters of this engine that Tabletop can start on this machine (Kudu: from kudu-binary). */
    /**
     * The spec that also tries {@code members} (addresses a connector learned earlier, {@link
     * ClusterConnector#learnedMembers()}), so that a cluster stays reachable after the node the spec names
     * left it. The default: the spec as it is (the engine learns no members).
     */
    default ConnectionSpec withMembers(ConnectionSpec spec, java.util.List<String> members) {
        return spec;
    }

    default Optional<LocalClusters> localClusters() {
        return Optional.empty();
    }

    /**
     * How to open: where a secret comes from, and whether a local cluster this provider launched stops
     * the servers a plan stops (without it, a run waits for the operator to stop each one).
     */
    record OpenOptions(SecretSource secrets, boolean stopLocal) {
        public OpenOptions {
            secrets = secrets == null ? SecretSource.NONE : secrets;
        }

        public static OpenOptions defaults() {
            return new OpenOptions(SecretSource.ENVIRONMENT, false);
        }
    }
}
