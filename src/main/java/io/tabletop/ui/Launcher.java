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
            TabletopCli.main(args);
            return;
        }
        Application.launch(TabletopApp.class, args);
    }
}
