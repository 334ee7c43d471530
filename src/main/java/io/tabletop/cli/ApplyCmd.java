package io.tabletop.cli;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.executor.ExecutorOptions;
import io.tabletop.planner.Plan;
import io.tabletop.service.RemovalService;
import io.tabletop.service.Runs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;

@Command(name = "apply", mixinStandardHelpOptions = true, description = "Pre-check, plan and run a removal, rebalance or scale-out on a live cluster.")
final class ApplyCmd implements Callable<Integer> {
    @CommandLine.ParentCommand
    TabletopCli root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    Options.Connect target = new Options.Connect();

    @Option(names = "--yes", description = "run without asking (required: there is no prompt)")
    boolean yes;

    @Option(names = "--stop-local", description = "a local cluster Tabletop started (tabletop local-ENGINE start) stops the servers; "
            + "without it the run waits for the operator to stop each one")
    boolean stopLocal;

    @CommandLine.Mixin
    Options.Plan options = new Options.Plan();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (!yes) {
            throw new TabletopCli.UserError("apply changes the cluster: review the plan (tabletop plan ...), then add --yes");
        }
        RemovalService service = new RemovalService();
        String connect = target.connect;
        try (ClusterConnector c = root.context.connections().open(connect, root.context.secrets(), stopLocal)) {
            ExecutorOptions how = options.executorOptions(c.capabilities()).withClock(c.clock()); // a bad value stops here, before any read
            Instant readAt = Instant.now();
            ClusterSnapshot s = c.snapshot();
            // Tables are scanned while the plan is made and the run starts (no replica moves before the count
            // is in): on real data the scans, not the reads, are what the operator would wait for.
            var counting = RemovalService.countRows(c, s);
            RemovalService.PreCheck pre = service.preCheck(c, s, readAt, options.goal(s, c.capabilities()), counting, false);
            CliOutput.printChecks(out, pre.checks(), pre.plan() == null, "refused");
            if (!counting.isDone()) {
                out.println("      Row counts: counting while the run starts; no replica moves before the count is in");
            }
            counting.whenComplete((rows, e) -> RemovalService.rowCheck(counting).ifPresent(check -> {
                synchronized (out) {
                    out.println(PlanText.check(check));
                    out.flush();
                }
            }));
            Plan plan = pre.plan();
            out.println(PlanText.summary(plan));
            if (!plan.forecast().isEmpty()) {
                out.print(PlanText.forecast(plan).stripLeading() + "\n"); // the engine decides; show what it is expected to do first
            }
            if (how.adaptive()) {
                out.println("Moves per server: adaptive, from " + how.maxMovesPerServer() + ", never above " + how.ceiling());
            }
            Runs runs = service.runs();
            Runs.Run run = runs.start(plan, c, connect, stopLocal, how.withPrelude(pre.prelude(root.launchedAt)),
                    CliOutput.printer(out, plan.steps().size()), null);
            try (InterruptGuard guard = InterruptGuard.install(run, out)) {
                out.println("Run " + run.runId() + " (journal " + run.journal().dir() + "); if this process stops, "
                        + "continue with: tabletop resume " + run.runId());
                out.flush();
                CliOutput.finish(out, service, plan, c, run, pre.rowsBefore());
            }
        }
        return 0;
    }
}
