package io.tabletop.cli;

import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.planner.Plan;
import io.tabletop.store.PlanJson;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "plan", mixinStandardHelpOptions = true, description = "Plan a removal, rebalance or scale-out against a saved snapshot; nothing runs.")
final class PlanCmd implements Callable<Integer> {
    @CommandLine.ParentCommand
    TabletopCli root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--snapshot", required = true, paramLabel = "FILE", description = "snapshot JSON, or - for standard input")
    String snapshot;

    @Option(names = "--format", defaultValue = "text", description = "json or text (default: ${DEFAULT-VALUE})")
    String format;

    @CommandLine.Mixin
    Options.Plan options = new Options.Plan();

    @Override
    public Integer call() throws Exception {
        if (!format.equals("json") && !format.equals("text")) {
            throw new TabletopCli.UserError("--format must be json or text, was '" + format + "'");
        }
        ClusterSnapshot s = Options.readSnapshot(snapshot);
        Plan plan = options.planOffline(s, root.context.connections());
        PrintWriter out = spec.commandLine().getOut();
        out.println(format.equals("json") ? PlanJson.write(plan) : PlanText.render(plan));
        return 0;
    }
}
