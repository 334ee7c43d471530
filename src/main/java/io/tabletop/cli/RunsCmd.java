package io.tabletop.cli;

import io.tabletop.service.Runs;
import io.tabletop.store.RunJournal;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "runs", mixinStandardHelpOptions = true, description = "List recorded runs and their state (newest first).")
final class RunsCmd implements Callable<Integer> {
    @CommandLine.ParentCommand
    TabletopCli root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--format", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE})")
    String format;

    @Override
    public Integer call() throws Exception {
        if (!format.equals("json") && !format.equals("text")) {
            throw new TabletopCli.UserError("--format must be json or text, was '" + format + "'");
        }
        Runs runs = new Runs();
        List<String> problems = new ArrayList<>();
        List<Runs.RunInfo> all = runs.list(problems);
        PrintWriter out = spec.commandLine().getOut();
        if (format.equals("json")) {
            out.println(RunJournal.toJson(all.stream().map(Runs.RunInfo::record).toList(),
                    all.stream().map(Runs.RunInfo::state).toList()));
        } else {
            out.printf(Locale.ROOT, "%-25s %-20s %-12s %-9s %-8s %s%n", "RUN", "STARTED (UTC)", "STATE", "STEPS OK", "ATTEMPTS", "CLUSTER / GOAL");
            for (Runs.RunInfo r : all) {
                var rec = r.record();
                out.printf(Locale.ROOT, "%-25s %-20s %-12s %-9s %-8d %s: %s%n", rec.runId(),
                        rec.startedAt().toString().replace('T', ' ').substring(0, 19), r.state(), rec.succeeded(),
                        rec.attempts(), rec.cluster(), rec.goalSummary());
                if (rec.damaged()) {
                    out.println("  DAMAGED: " + rec.dir().resolve("journal.jsonl") + " " + rec.damage().describe());
                }
            }
            if (all.isEmpty()) {
                out.println("(no runs yet in " + runs.runsDir() + ")");
            }
        }
        for (Runs.RunInfo r : all) {
            // a torn journal end a resume moved aside: named, never silently dropped
            r.record().events().stream().filter(e -> e.startsWith("torn-tail: "))
                    .forEach(e -> spec.commandLine().getErr().println("tabletop: note: run " + r.record().runId() + ": " + e.substring(11)));
        }
        for (String p : problems) {
            spec.commandLine().getErr().println("tabletop: DAMAGED run " + p);
        }
        return 0;
    }
}
