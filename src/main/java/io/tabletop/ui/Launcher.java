package io.tabletop.ui;

import io.tabletop.cli.TabletopCli;
import javafx.application.Application;

/**
 * The jar's entry point. With arguments it is the command line; without, the console. A main class
 * that extends {@code Application} does not start from a plain classpath, hence this class.
 */
public final class Launcher {
    private Launcher() {
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
            }
            io.tabletop.service.ReviewImages.register(new OffscreenReviewImages());
            TabletopCli.main(args);
            return;
        }
        Application.launch(TabletopApp.class, args);
    }
}
