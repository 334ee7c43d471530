package io.tabletop.connector;

import java.util.Optional;

/**
 * Where a secret comes from when a connector needs one: an environment variable the provider names, or an
 * interactive prompt (the console's password field, the command line's no-echo prompt). A secret lives in
 * memory only: it is never written to a file, a log, a journal, an audit record, a review bundle or an
 * exception message.
 */
@FunctionalInterface
public interface SecretSource {
    /** What a provider asks for: the variable it reads and the words of a prompt. */
    record Request(String environmentVariable, String prompt) {
    }

    /** The secret, or empty when none can be had (no variable set, no terminal to prompt on). */
    Optional<char[]> secret(Request request);

    /** Reads the environment variable only. */
    SecretSource ENVIRONMENT = r -> Optional.ofNullable(System.getenv(r.environmentVariable()))
            .filter(v -> !v.isEmpty()).map(String::toCharArray);

    /** For engines without secrets. */
    SecretSource NONE = r -> Optional.empty();

    /** This source, else {@code other}. */
    default SecretSource orElse(SecretSource other) {
        return r -> {
            Optional<char[]> s = secret(r);
            return s.isPresent() ? s : other.secret(r);
        };
    }
}
