package io.tabletop.cli;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "resume", mixinStandardHelpOptions = true,
        description = "Continue an interrupted run: read the live cluster, check the journal against it, plan what is left, run it.")
final class ResumeCmd implements Callable<Integer> {
    @CommandLine.ParentCommand
    TabletopCli root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    Options.RunChoice choice = new Options.RunChoice();

    @Option(names = "--yes", description = "run without asking (required: there is no prompt)")
    boolean yes;

    @Option(names = "--max-moves-per-server", paramLabel = "N|auto", defaultValue = "",
            description = "concurrent moves per server: a number, or auto (follows the cluster, never above --max-moves-ceiling) (default: the engine's)")
    String maxMovesPerServer;

    @Option(names = "--max-moves-ceiling", paramLabel = "N", defaultValue = "0",
            description = "with --max-moves-per-server auto: never more than N moves per server (default: twice the engine's default)")
    int ceiling;

    @Option(names = "--replace-dead-copies", description = "when a server dies during the run, drop its copies at once (audited) so that "
            + "the engine rebuilds them now instead of after its own timeout; until then those tablets have one copy fewer")
    boolean replaceDeadCopies;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Runs runs = new Runs();
        Runs.RunInfo info = choice.find(runs, "to resume");
        try {
            info = runs.claim(info); // before anything is read: a second resume of the run stops here, at once
        } catch (Runs.LockedException e) {
            throw new TabletopCli.UserError("cannot resume: " + e.getMessage());
        }
        var rec = info.record();
        String connect = rec.connect();
        out.println("Run " + rec.runId() + " on " + rec.cluster() + " (" + connect + "), " + info.state() + ", started "
                + rec.startedAt() + " by " + rec.user());
        RemovalService service = new RemovalService();
        try (ClusterConnector c = root.context.connections().open(connect, root.context.secrets(), rec.stopLocal())) {
            Runs.Resume r = runs.prepareResume(info, c, CliOutput.progressLine(out));
            if (r.blocked()) {
                CliOutput.settingsLeftChanged(out, c, info);
            }
            CliOutput.printChecks(out, r.checks(), r.blocked(), "cannot resume");
            if (r.plan() == null) {
                runs.markDone(info, "nothing left to do: " + r.alreadyDone() + " step(s) were done before the run stopped");
                out.println("Nothing left to do; run " + rec.runId() + " is marked SUCCEEDED");
                return 0;
            }
            out.println(PlanText.summary(r.plan()));
            if (!yes) {
                throw new TabletopCli.UserError("resume changes the cluster: review the above (or tabletop plan), then add --yes");
            }
            ExecutorOptions how = Options.Plan.Concurrency.parse(maxMovesPerServer, ceiling).options(c.capabilities()).withClock(c.clock())
                    .withReplaceDeadCopies(replaceDeadCopies);
            // as apply does: the rows counted before the run are compared after it
            RemovalService.RowsBefore rows = RemovalService.countRowsBefore(c);
            rows.check().ifPresent(check -> out.println(PlanText.check(check)));
            Runs.Run run = runs.resume(r, c, how, CliOutput.printer(out, r.plan().steps().size()), null);
            try (InterruptGuard guard = InterruptGuard.install(run, out)) {
                CliOutput.finish(out, service, r.plan(), c, run, rows.rows());
            }
        }
        return 0;
    }
}
