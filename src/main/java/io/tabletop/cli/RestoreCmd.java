package io.tabletop.cli;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.planner.Plan;
import io.tabletop.planner.Restore;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import io.tabletop.store.RunJournal;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Plan (and with --yes run) putting replicas and leaders back as they were before a run.")
final class RestoreCmd implements Callable<Integer> {
    @CommandLine.ParentCommand
    TabletopCli root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    Options.RunChoice choice = new Options.RunChoice();

    @Option(names = "--yes", description = "run the restore (without it: preview only)")
    boolean yes;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Runs runs = new Runs();
        Runs.RunInfo info = choice.find(runs, "whose placement to restore");
        var rec = info.record();
        if (info.state().equals("RUNNING")) {
            throw new TabletopCli.UserError("run " + rec.runId() + " is still running; cancel it first");
        }
        ClusterSnapshot target = RunJournal.snapshotBefore(rec.dir());
        String connect = rec.connect();
        RemovalService service = new RemovalService();
        try (ClusterConnector c = root.context.connections().open(connect, root.context.secrets(), false)) {
            RemovalService.PreCheck pre = service.preCheck(c, new Restore(target,
                    "the placement before run " + rec.runId()));
            CliOutput.printChecks(out, pre.checks(), pre.plan() == null, "cannot restore");
            Plan plan = pre.plan();
            if (!yes) {
                out.println(PlanText.render(plan));
                out.println("Preview only; add --yes to run it.");
                return 0;
            }
            out.println(PlanText.summary(plan));
            Runs.Run run = runs.start(plan, c, connect, false, ExecutorOptions.defaults(c.capabilities().maxMovesPerServer()).withClock(c.clock()),
                    CliOutput.printer(out, plan.steps().size()), null);
            out.println("Run " + run.runId() + " (journal " + run.journal().dir() + ")");
            CliOutput.finish(out, service, plan, c, run, pre.rows());
        }
        return 0;
    }
}
