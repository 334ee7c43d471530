package io.tabletop.cli;

import io.tabletop.connector.SecretSource;
import io.tabletop.service.Benchmark;
import io.tabletop.service.Connections;

import java.io.Console;
import java.util.List;
import java.util.Optional;

/**
 * What the command line works with: the engines (through {@link Connections}), the benchmarks, and where
 * secrets come from (the provider's environment variable, else a no-echo prompt on a terminal).
 */
public record CliContext(Connections connections, List<Benchmark> benchmarks, SecretSource secrets) {
    public CliContext {
        benchmarks = List.copyOf(benchmarks);
    }

    public CliContext(Connections connections, List<Benchmark> benchmarks) {
        this(connections, benchmarks, SecretSource.ENVIRONMENT.orElse(CliContext::prompt));
    }

    /** A no-echo prompt where standard input is a terminal; nothing elsewhere (a script gets a clear error). */
    static Optional<char[]> prompt(SecretSource.Request r) {
        Console console = System.console();
        if (console == null) {
            return Optional.empty();
        }
        char[] s = console.readPassword("%s (or set %s): ", r.prompt(), r.environmentVariable());
        return s == null || s.length == 0 ? Optional.empty() : Optional.of(s);
    }
}
