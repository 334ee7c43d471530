package io.tabletop.cli;

import io.tabletop.service.LocalKudu;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;

/** A real Kudu cluster on this machine (loopback only), from the kudu-binary artifact: start, status, stop. */
@Command(name = "local-kudu", mixinStandardHelpOptions = true,
        description = "Start, inspect or stop a real local Kudu cluster (Linux x86_64; 127.0.0.1 only).",
        subcommands = {LocalKuduCmd.Start.class, LocalKuduCmd.Status.class, LocalKuduCmd.Stop.class})
final class LocalKuduCmd implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Start 1 master and N tablet servers with demo tables; they keep running after this command.")
    static final class Start implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--name", defaultValue = "local", description = "cluster name (default: ${DEFAULT-VALUE})")
        String name;

        @Option(names = "--tservers", defaultValue = "5", description = "tablet servers (default: ${DEFAULT-VALUE})")
        int tservers;

        @Option(names = "--tables", defaultValue = "24,20,16", split = ",", description = "hash partitions per demo table (default: ${DEFAULT-VALUE})")
        int[] tables;

        @Option(names = "--rows", defaultValue = "20000", description = "rows per table (default: ${DEFAULT-VALUE})")
        int rows;

        @Override
        public Integer call() throws Exception {
            LocalKudu.Status s = LocalKudu.start(name, tservers, tables, rows);
            spec.commandLine().getOut().println(s.spec());
            spec.commandLine().getErr().println("started " + tservers + " tablet servers with " + tables.length + " tables ("
                    + Arrays.stream(tables).sum() + " tablets, " + rows + " rows each); stop with: tabletop local-kudu stop --name " + name);
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show a local cluster's servers.")
    static final class Status implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--name", defaultValue = "local", description = "cluster name (default: ${DEFAULT-VALUE})")
        String name;

        @Override
        public Integer call() throws Exception {
            LocalKudu.Status s = LocalKudu.status(name).orElseThrow(() -> new TabletopCli.UserError("no local cluster '" + name + "'"));
            PrintWriter out = spec.commandLine().getOut();
            out.println(s.spec());
            for (LocalKudu.ServerStatus v : s.servers()) {
                out.printf("%-10s %-21s pid %-8d %s%n", v.name(), v.rpcAddress(), v.pid(), v.running() ? "running" : "stopped");
            }
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop every server of a local cluster and delete its data.")
    static final class Stop implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--name", defaultValue = "local", description = "cluster name (default: ${DEFAULT-VALUE})")
        String name;

        @Override
        public Integer call() throws Exception {
            if (!LocalKudu.stop(name)) {
                throw new TabletopCli.UserError("no local cluster '" + name + "'");
            }
            spec.commandLine().getErr().println("stopped local cluster '" + name + "'");
            return 0;
        }
    }
}
