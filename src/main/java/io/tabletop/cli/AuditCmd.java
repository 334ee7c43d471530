package io.tabletop.cli;

import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Path;
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
