package io.tabletop.service;

import java.nio.file.Path;

/**
 * Where Tabletop keeps its files: the system property {@code tabletop.home} if set (tests use it),
 * else {@code $XDG_DATA_HOME/tabletop}, else {@code ~/.local/share/tabletop}.
 */
public final class AppPaths {
    private AppPaths() {
    }

    public static Path home() {
        String prop = System.getProperty("tabletop.home");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String xdg = System.getenv("XDG_DATA_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "tabletop");
        }
        return Path.of(System.getProperty("user.home"), ".local", "share", "tabletop");
    }

    /** The log being written now; {@code tabletop.1.log} and {@code tabletop.2.log} beside it are older. */
    public static Path logFile() {
        return home().resolve("logs").resolve("tabletop.0.log");
    }
}
