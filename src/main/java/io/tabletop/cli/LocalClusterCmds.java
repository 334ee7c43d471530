package io.tabletop.cli;

import io.tabletop.connector.EngineProvider;
import io.tabletop.connector.LocalClusters;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code tabletop local-ENGINE start|status|stop}: real local clusters of an engine whose provider can
 * start them (loopback only), built from the provider, so that the command line names no engine itself.
 */
final class LocalClusterCmds {
    private LocalClusterCmds() {
    }

    /** A subcommand whose body reads its options from its own spec. */
    abstract static class Body implements Callable<Integer> {
        CommandSpec spec;

        <T> T option(String name) {
            return spec.findOption(name).getValue();
        }
    }

    static CommandLine command(String name, String description, Body body, OptionSpec... options) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(body).name(name).mixinStandardHelpOptions(true);
        spec.usageMessage().description(description);
        for (OptionSpec o : options) {
            spec.addOption(o);
        }
        body.spec = spec;
        return new CommandLine(spec);
    }

    /** The command of {@code provider}'s local clusters: local-SCHEME. */
    static String name(EngineProvider provider) {
        return "local-" + provider.schemes().get(0);
    }

    static CommandLine build(EngineProvider provider, LocalClusters local) {
        String command = name(provider);
        LocalClusters.Shape d = local.defaultShape();
        Body usage = new Body() {
            @Override
            public Integer call() {
                spec.commandLine().usage(spec.commandLine().getOut());
                return 0;
            }
        };
        CommandLine cl = command(command, "Start, inspect or stop a real local " + provider.displayName() + " cluster ("
                + local.describeDefault() + ").", usage);

        cl.addSubcommand(command("start", "Start a cluster with demo tables; it keeps running after this command.", new Body() {
            @Override
            public Integer call() throws Exception {
                String name = option("--name");
                int servers = option("--servers");
                int[] tables;
                try {
                    tables = Arrays.stream(((String) option("--tables")).split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--tables takes whole numbers separated by commas");
                }
                int rows = option("--rows");
                int masters = option("--masters");
                LocalClusters.Status st = local.start(name, new LocalClusters.Shape(servers, tables, rows, masters));
                spec.commandLine().getOut().println(st.spec());
                spec.commandLine().getErr().println("started " + servers + " servers with " + tables.length + " tables ("
                        + Arrays.stream(tables).sum() + " partitions, " + rows + " rows each); stop with: tabletop " + command
                        + " stop --name " + name);
                return 0;
            }
        }, name(), OptionSpec.builder("--servers", "--tservers").type(int.class).defaultValue(String.valueOf(d.servers()))
                        .description("servers (default: ${DEFAULT-VALUE})").build(),
                OptionSpec.builder("--tables").type(String.class)
                        .defaultValue(String.join(",", Arrays.stream(d.partitionsPerTable()).mapToObj(String::valueOf).toList()))
                        .description("partitions per demo table (default: ${DEFAULT-VALUE})").build(),
                OptionSpec.builder("--rows").type(int.class).defaultValue(String.valueOf(d.rowsPerTable()))
                        .description("rows per table (default: ${DEFAULT-VALUE})").build(),
                OptionSpec.builder("--masters").type(int.class).defaultValue(String.valueOf(d.masters()))
                        .description("masters, where the engine has them: 1, or 3 as production runs them (default: ${DEFAULT-VALUE})").build()));

        cl.addSubcommand(command("status", "Show a local cluster's servers.", new Body() {
            @Override
            public Integer call() {
                String name = option("--name");
                LocalClusters.Status st = local.status(name).orElseThrow(() -> new IllegalArgumentException("no local cluster '" + name + "'"));
                PrintWriter out = spec.commandLine().getOut();
                out.println(st.spec());
                for (LocalClusters.ServerStatus v : st.servers()) {
                    out.printf(Locale.ROOT, "%-10s %-21s pid %-8d %s%n", v.name(), v.address(), v.pid(), v.running() ? "running" : "stopped");
                }
                return 0;
            }
        }, name()));

        cl.addSubcommand(command("stop", "Stop every server of a local cluster and delete its data.", new Body() {
            @Override
            public Integer call() throws Exception {
                String name = option("--name");
                if (!local.stop(name)) {
                    throw new IllegalArgumentException("no local cluster '" + name + "'");
                }
                spec.commandLine().getErr().println("stopped local cluster '" + name + "'");
                return 0;
            }
        }, name()));
        return cl;
    }

    private static OptionSpec name() {
        return OptionSpec.builder("--name").type(String.class).defaultValue("local").description("cluster name (default: ${DEFAULT-VALUE})").build();
    }
}
