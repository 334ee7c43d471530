package io.tabletop.cli;

import io.tabletop.service.KuduDrainBenchmark;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** Benchmarks (not tests): their results and commands go in the README. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks; results go in the README.",
        subcommands = {BenchCmd.KuduDrain.class, BenchCmd.PlannerBench.class})
final class BenchCmd implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    @Command(name = "planner", mixinStandardHelpOptions = true,
            description = "Time the planner on even clusters of 10k, 100k and 1M replicas (RF 3, 10 servers removed).")
    static final class PlannerBench implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--replicas", defaultValue = "10000,100000,1000000", split = ",", description = "cluster sizes (default: ${DEFAULT-VALUE})")
        int[] replicas;

        @Option(names = "--repeats", defaultValue = "5", description = "timed runs per size after one warm-up (default: ${DEFAULT-VALUE})")
        int repeats;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            out.println("| replicas | servers | removed | moves | best s | median s | heap after, MB |");
            out.println("|---|---|---|---|---|---|---|");
            for (int n : replicas) {
                var r = io.tabletop.service.PlannerBenchmark.run(n, repeats);
                out.println(String.format(Locale.ROOT, "| %,d | %d | %d | %,d | %.3f | %.3f | %d |", r.replicas(), r.servers(), r.removed(),
                        r.moves(), r.bestSeconds(), r.medianSeconds(), r.heapUsedMb()));
                out.flush();
            }
            return 0;
        }
    }

    @Command(name = "kudu-drain", mixinStandardHelpOptions = true,
            description = "Drain one tserver of two identical fresh local Kudu clusters: Tabletop vs kudu cluster rebalance.")
    static final class KuduDrain implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--rounds", defaultValue = "3", description = "pairs of clusters (default: ${DEFAULT-VALUE})")
        int rounds;

        @Option(names = "--rows", defaultValue = "20000", description = "rows per table (default: ${DEFAULT-VALUE})")
        int rows;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            List<KuduDrainBenchmark.Side> all = new ArrayList<>();
            for (int i = 1; i <= rounds; i++) {
                int round = i;
                all.addAll(KuduDrainBenchmark.round(rows, line -> {
                    err.println("round " + round + ": " + line);
                    err.flush();
                }));
            }
            out.println("| round | tool | drain s | whole plan s | moves | replicas on drained | replica skew | leader skew | max table skew | rows before → after |");
            out.println("|---|---|---|---|---|---|---|---|---|---|");
            for (int i = 0; i < all.size(); i++) {
                KuduDrainBenchmark.Side s = all.get(i);
                out.println(String.format(Locale.ROOT, "| %d | %s | %.1f | %.1f | %d | %d | %d | %d | %d | %d → %d |", i / 2 + 1, s.tool(),
                        s.drainSeconds(), s.totalSeconds(), s.moves(), s.replicasOnServer(), s.replicaSkew(), s.leaderSkew(),
                        s.tableSkew(), s.rowsBefore(), s.rowsAfter()));
            }
            return 0;
        }
    }
}
