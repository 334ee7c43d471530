package io.tabletop.cli;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.store.SnapshotJson;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Write the cluster's snapshot JSON.")
final class SnapshotCmd implements Callable<Integer> {
    @CommandLine.ParentCommand
    TabletopCli root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    Options.Connect target = new Options.Connect();

    @Option(names = "--out", paramLabel = "FILE", description = "write here instead of standard output")
    Path out;

    @Override
    public Integer call() throws Exception {
        try (ClusterConnector c = root.context.connections().open(target.connect, root.context.secrets(), false)) {
            ClusterSnapshot s = c.snapshot();
            if (out == null) {
                spec.commandLine().getOut().println(SnapshotJson.write(s));
            } else {
                SnapshotJson.write(s, out);
                spec.commandLine().getErr().println("wrote " + out + " (" + s.servers().size() + " servers, "
                        + s.partitions().size() + " partitions)");
            }
        }
        return 0;
    }
}
