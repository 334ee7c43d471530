package io.tabletop;

import io.tabletop.bench.KuduDrainBenchmark;
import io.tabletop.bench.KuduScaleOutBenchmark;
import io.tabletop.bench.OpenMldbOpsBenchmark;
import io.tabletop.bench.PlannerBenchmark;
import io.tabletop.cli.CliContext;
import io.tabletop.cli.TabletopCli;
import io.tabletop.connector.EngineRegistry;
import io.tabletop.connector.couchbase.CouchbaseProvider;
import io.tabletop.connector.kudu.KuduProvider;
import io.tabletop.connector.openmldb.OpenMldbProvider;
import io.tabletop.connector.sandbox.SandboxProvider;
import io.tabletop.service.AppPaths;
import io.tabletop.service.Benchmark;
import io.tabletop.service.Connections;
import io.tabletop.service.ReviewImages;
import io.tabletop.ui.OffscreenReviewImages;
import io.tabletop.ui.TabletopApp;
import io.tabletop.ui.UiBenchmark;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * The application's root: the one place that knows every engine. It builds the engine registry and hands it
 * to the command line (with arguments) or the console (without). An engine is its provider package plus
 * one line in {@link #registry()}.
 */
public final class Main {
    private Main() {
    }

    /** Every engine Tabletop speaks to, in the order the console lists them. */
    public static EngineRegistry registry() {
        return new EngineRegistry(List.of(new SandboxProvider(), new KuduProvider(AppPaths.home()), new CouchbaseProvider(),
                new OpenMldbProvider()));
    }

    public static List<Benchmark> benchmarks() {
        return List.of(new PlannerBenchmark(), new KuduDrainBenchmark(), new KuduScaleOutBenchmark(), new OpenMldbOpsBenchmark(), new UiBenchmark(new Connections(registry())));
    }

    /** What the command line works with. */
    public static CliContext cliContext() {
        return new CliContext(new Connections(registry()), benchmarks());
    }

    /**
     * When this process started, to 10 ms where /proc says (ProcessHandle's start rounds the boot time to the
     * second), else as ProcessHandle has it, else now.
     */
    static Instant processStart() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startTicks = Long.parseLong(f[19]); // field 22, counted from the state (field 3)
            double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            double age = uptime - startTicks / 100.0; // USER_HZ is 100 on Linux
            if (age >= 0 && age < 3600) {
                return Instant.now().minusMillis(Math.round(age * 1000));
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: ProcessHandle's answer below
        }
        return ProcessHandle.current().info().startInstant().orElse(Instant.now());
    }

    public static void main(String[] args) {
        if (args.length > 0) {
            // The command line draws the console's views for review bundles, off screen; without a
            // display, on JavaFX's headless Monocle platform.
            String display = System.getenv("DISPLAY");
            if ((display == null || display.isBlank()) && System.getProperty("glass.platform") == null) {
                System.setProperty("glass.platform", "Monocle");
                System.setProperty("monocle.platform", "Headless");
                System.setProperty("prism.order", "sw");
                System.setProperty("headless.geometry", "1920x1200-32"); // room for the largest view rendered off screen
            }
            ReviewImages.register(new OffscreenReviewImages());
            Instant launched = processStart();
            System.exit(TabletopCli.run(cliContext(), args, new PrintWriter(System.out, true), new PrintWriter(System.err, true), launched));
        }
        TabletopApp.launch(new Connections(registry()), args);
        if ("1".equals(System.getenv("TABLETOP_CDS_TRAINING"))) {
            trainCommandLine();
        }
    }

    /**
     * For the package's class-data-sharing archive (src/dist/linux/make-cds-archive.sh): after the console's
     * first window, the command line's path too, so that {@code tabletop apply} starts as fast as the console:
     * a removal on the sandbox, a Kudu connection that finds no master, and the classes a removal on a real
     * Kudu cluster loads, which no cluster-less run reaches ({@link #loadClassList}).
     */
    private static void trainCommandLine() {
        PrintWriter none = new PrintWriter(java.io.Writer.nullWriter());
        TabletopCli.run(cliContext(), new String[]{"apply", "--connect", "sandbox:small:instant", "--remove", "ts-2", "--yes"}, none, none);
        TabletopCli.run(cliContext(), new String[]{"snapshot", "--connect", "kudu://127.0.0.1:9"}, none, none);
        loadClassList(Main.class.getClassLoader());
    }

    /** The classes a removal on a real Kudu cluster loads beyond the JDK's archive (src/dist/make-kudu-classlist.sh). */
    static final String KUDU_CLASS_LIST = "/io/tabletop/cds/kudu-apply.classlist";

    /**
     * Loads (without initializing) each class named by {@link #KUDU_CLASS_LIST}, so that the archive holds them:
     * Kudu's Java client with its Netty, TLS and SASL, the HTTP client, the Kudu connector. In a cold
     * {@code apply} they were 2,300 classes read and verified from the jar while the run started, on the
     * thread that builds Kudu's client. A name this build no longer has is skipped. Returns {loaded, listed}.
     */
    static int[] loadClassList(ClassLoader loader) {
        int loaded = 0;
        int listed = 0;
        try (var in = Main.class.getResourceAsStream(KUDU_CLASS_LIST)) {
            if (in == null) {
                return new int[]{0, 0};
            }
            for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                String name = line.strip();
                if (name.isEmpty() || name.startsWith("#")) {
                    continue;
                }
                listed++;
                try {
                    Class.forName(name, false, loader);
                    loaded++;
                } catch (ClassNotFoundException | LinkageError e) {
                    // renamed or gone since the list was made: one class less in the archive
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new int[]{loaded, listed};
    }
}
