package io.tabletop.cli;

import io.tabletop.service.Benchmark;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code tabletop bench NAME [--OPTION VALUE ...]}: the registered benchmarks; their results go in the README. */
final class BenchCmds {
    private BenchCmds() {
    }

    static final String NAME = "bench";

    static CommandLine build(List<Benchmark> benchmarks) {
        CommandLine bench = LocalClusterCmds.command(NAME, "Benchmarks; results go in the README.", new LocalClusterCmds.Body() {
            @Override
            public Integer call() {
                spec.commandLine().usage(spec.commandLine().getOut());
                return 0;
            }
        });
        for (Benchmark b : benchmarks) {
            OptionSpec[] options = b.options().stream().map(o -> OptionSpec.builder("--" + o.name()).type(String.class)
                    .defaultValue(o.defaultValue()).description(o.description() + " (default: ${DEFAULT-VALUE})").build())
                    .toArray(OptionSpec[]::new);
            bench.addSubcommand(LocalClusterCmds.command(b.name(), b.description(), new LocalClusterCmds.Body() {
                @Override
                public Integer call() throws Exception {
                    Map<String, String> values = new LinkedHashMap<>();
                    for (Benchmark.Option o : b.options()) {
                        values.put(o.name(), option("--" + o.name()));
                    }
                    b.run(values, spec.commandLine().getOut(), spec.commandLine().getErr());
                    return 0;
                }
            }, options));
        }
        return bench;
    }
}
