package io.tabletop.service;

import io.tabletop.store.PrivateFiles;
import io.tabletop.store.ConnectionStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What the console remembers between starts, in {@code settings.properties} beside {@code connections.json}:
 * the window's place and size, the theme, the last connection's name and the splitters' positions. Never a
 * secret: it holds no spec, only a connection's name. A missing, damaged or foreign file gives the defaults
 * (the log says why); nothing is lost, since it is written again on the next close.
 *
 * @param x          window position, or NaN when never saved
 * @param dividers   splitter positions by splitter id
 */
public record UiSettings(double x, double y, double width, double height, boolean maximized, boolean dark,
                         String lastConnection, Map<String, Double> dividers) {
    private static final Logger LOG = Logger.getLogger(UiSettings.class.getName());
    private static final long MAX_BYTES = 64 * 1024;

    public UiSettings {
        dividers = Map.copyOf(dividers);
    }

    public static UiSettings defaults() {
        return new UiSettings(Double.NaN, Double.NaN, 1440, 900, false, false, null, Map.of());
    }

    public boolean placed() {
        return !Double.isNaN(x) && !Double.isNaN(y);
    }

    /** {@code settings.properties} in the config directory {@link ConnectionStore#defaultFile()} uses. */
    public static Path defaultFile() {
        return ConnectionStore.defaultFile().resolveSibling("settings.properties");
    }

    public static UiSettings load(Path file) {
        if (!Files.isRegularFile(file)) {
            return defaults();
        }
        try {
            if (Files.size(file) > MAX_BYTES) {
                LOG.warning(file + " is larger than settings ever are; using the defaults");
                return defaults();
            }
            java.util.Properties n = new java.util.Properties();
            try (var in = Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8)) {
                n.load(in);
            }
            if (n.getProperty("width") == null) {
                LOG.warning(file + " does not hold settings; using the defaults");
                return defaults();
            }
            UiSettings d = defaults();
            Map<String, Double> dividers = new LinkedHashMap<>();
            for (String k : n.stringPropertyNames()) {
                if (k.startsWith("divider.")) {
                    double v = number(n, k, Double.NaN);
                    if (v > 0 && v < 1) {
                        dividers.put(k.substring("divider.".length()), v);
                    }
                }
            }
            double w = number(n, "width", d.width());
            double h = number(n, "height", d.height());
            return new UiSettings(number(n, "x", Double.NaN), number(n, "y", Double.NaN),
                    w >= 400 && w <= 20_000 ? w : d.width(), h >= 300 && h <= 20_000 ? h : d.height(),
                    Boolean.parseBoolean(n.getProperty("maximized")), Boolean.parseBoolean(n.getProperty("dark")),
                    n.getProperty("lastConnection"), dividers);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, file + " could not be read; using the defaults", e);
            return defaults();
        }
    }

    public void save(Path file) throws IOException {
        java.util.Properties n = new java.util.Properties();
        if (placed()) {
            n.setProperty("x", Double.toString(x));
            n.setProperty("y", Double.toString(y));
        }
        n.setProperty("width", Double.toString(width));
        n.setProperty("height", Double.toString(height));
        n.setProperty("maximized", Boolean.toString(maximized));
        n.setProperty("dark", Boolean.toString(dark));
        if (lastConnection != null) {
            n.setProperty("lastConnection", lastConnection);
        }
        dividers.forEach((k, v) -> n.setProperty("divider." + k, Double.toString(v)));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        java.io.StringWriter text = new java.io.StringWriter();
        n.store(text, "Tabletop console settings: no secrets, only a connection's name");
        PrivateFiles.writeString(tmp, text.toString());
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static double number(java.util.Properties p, String key, double otherwise) {
        try {
            String v = p.getProperty(key);
            return v == null ? otherwise : Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }
}
