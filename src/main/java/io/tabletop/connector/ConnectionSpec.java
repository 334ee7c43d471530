package io.tabletop.connector;

import io.tabletop.domain.Engine;

import java.util.Optional;

/**
 * A parsed connection spec: what a provider needs to open a connector. Each provider has its own record
 * (the addresses, options and user it understood); {@link #text()} is the canonical spec to save, show
 * and journal. A spec never holds a secret.
 */
public interface ConnectionSpec {
    Engine engine();

    /** The spec as the operator writes it: {@code kudu://m1:7051,m2:7051}. */
    String text();

    /** The user the secret belongs to, where the engine has users. */
    default Optional<String> user() {
        return Optional.empty();
    }
}
