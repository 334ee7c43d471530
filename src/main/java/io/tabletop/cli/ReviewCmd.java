package io.tabletop.cli;

import io.tabletop.store.PrivateFiles;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.planner.Plan;
import io.tabletop.service.ReviewBundle;
import io.tabletop.service.ReviewImages;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "review", mixinStandardHelpOptions = true,
        description = "Write the change-review bundle (review.md, review.html, plan.json, snapshots) for a plan against a saved snapshot.")
final class ReviewCmd implements Callable<Integer> {
    @CommandLine.ParentCommand
    TabletopCli root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--snapshot", required = true, paramLabel = "FILE", description = "snapshot JSON, or - for standard input")
    String snapshot;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory to write the bundle into")
    Path out;

    @Option(names = "--no-images", description = "skip rendering the views as PNG images")
    boolean noImages;

    @CommandLine.Mixin
    Options.Plan options = new Options.Plan();

    @Override
    public Integer call() throws Exception {
        ClusterSnapshot s = Options.readSnapshot(snapshot);
        Plan plan = options.planOffline(s, root.context.connections());
        var renderer = ReviewImages.registered();
        if (renderer.isPresent() && !noImages) {
            PrivateFiles.createDirectories(out);
            for (Map.Entry<String, byte[]> e : renderer.get().render(plan).entrySet()) {
                PrivateFiles.write(out.resolve(e.getKey()), e.getValue());
            }
        }
        List<Path> files = ReviewBundle.write(out, new ReviewBundle.Review(plan, plan.checks(),
                System.getProperty("user.name", "unknown"), Instant.now(), null));
        PrintWriter w = spec.commandLine().getOut();
        files.forEach(f -> w.println("wrote " + f));
        return 0;
    }
}
