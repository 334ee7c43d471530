package io.tabletop.cli;

import io.tabletop.service.Runs;
import io.tabletop.store.AuditLog;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "Check the audit log: its hash chain, its head file, and the heads every run's journal recorded (a cut-off end shows).")
final class AuditCmd implements Callable<Integer> {
    @CommandLine.ParentCommand
    TabletopCli root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Runs runs = new Runs();
        Path file = runs.audit().file();
        AuditLog.Report r = runs.checkAudit();
        int anchors = runs.auditAnchors();
        var out = spec.commandLine().getOut();
        r.notes().forEach(n -> out.println("note: " + n));
        if (!r.intact()) {
            for (String p : r.problems()) {
                out.println("PROBLEM: " + p);
            }
            out.flush();
            throw new TabletopCli.UserError(file + ": " + r.summary(anchors));
        }
        out.println(file + ": " + r.summary(anchors));
        return 0;
    }
}
