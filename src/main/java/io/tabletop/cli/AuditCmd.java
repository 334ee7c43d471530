package io.tabletop.cli;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Restore;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import io.tabletop.store.RunJournal;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "audit", mixinStandardHelpOptions = true, description = "Check the audit log's hash chain.")
final class AuditCmd implements Callable<Integer> {
    @CommandLine.ParentCommand
    TabletopCli root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path file = new Runs().audit().file();
        int n = AuditLog.count(file);
        var broken = AuditLog.verify(file);
        if (broken.isPresent()) {
            throw new TabletopCli.UserError(file + ": the hash chain breaks at " + broken.get());
        }
        spec.commandLine().getOut().println(file + ": " + n + " record(s), hash chain intact");
        return 0;
    }
}
