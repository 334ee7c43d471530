package io.tabletop.cli;

import io.tabletop.connector.kudu.KuduBinary;
import io.tabletop.connector.kudu.LocalKuduCluster;
import io.tabletop.connector.kudu.LocalKuduClusters;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Connections;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
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

    static Path dir(String name) throws TabletopCli.UserError {
        if (!name.matches("[A-Za-z0-9_-]{1,40}")) {
            throw new TabletopCli.UserError("--name takes letters, digits, - and _ only");
        }
        return Connections.localKuduRoot().resolve(name);
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start 1 master and N tablet servers with demo tables; they keep running after this command.")
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
            if (!KuduBinary.platformSupported()) {
                throw new TabletopCli.UserError("the kudu-binary artifact runs on Linux x86_64 only");
            }
            Path dir = dir(name);
            var existing = LocalKuduClusters.attach(dir);
            if (existing.isPresent()) {
                throw new TabletopCli.UserError("a local cluster '" + name + "' is recorded already (" + existing.get().spec()
                        + "); stop it first: tabletop local-kudu stop --name " + name);
            }
            if (tservers < 1 || tservers > 20) {
                throw new TabletopCli.UserError("--tservers must be 1 to 20");
            }
            PrintWriter out = spec.commandLine().getOut();
            KuduBinary binary = KuduBinary.locate(AppPaths.home().resolve("kudu"));
            LocalKuduCluster c = LocalKuduCluster.start(binary, dir, tservers, true);
            try {
                int rf = Math.min(3, tservers);
                c.loadTables(tables, rows, rf);
            } catch (Exception e) {
                LocalKuduClusters.attach(dir).orElseThrow().stopAll();
                throw e;
            }
            out.println("kudu://" + c.masterAddresses() + "?web=" + c.masterWebAddress());
            spec.commandLine().getErr().println("started " + tservers + " tablet servers with " + tables.length + " tables ("
                    + Arrays.stream(tables).sum() + " tablets, " + rows + " rows each) in " + dir
                    + "; stop with: tabletop local-kudu stop --name " + name);
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
            var c = LocalKuduClusters.attach(dir(name)).orElseThrow(() -> new TabletopCli.UserError("no local cluster '" + name + "'"));
            PrintWriter out = spec.commandLine().getOut();
            out.println(c.spec());
            for (var s : c.servers()) {
                out.printf("%-10s %-21s pid %-8d %s%n", s.name(), s.rpc(), s.pid(), c.isRunning(s) ? "running" : "stopped");
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
            var c = LocalKuduClusters.attach(dir(name)).orElseThrow(() -> new TabletopCli.UserError("no local cluster '" + name + "'"));
            c.stopAll();
            spec.commandLine().getErr().println("stopped local cluster '" + name + "'");
            return 0;
        }
    }
}
