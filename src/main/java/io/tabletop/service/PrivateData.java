package io.tabletop.service;

import io.tabletop.store.PrivateFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tabletop's data stays private to its user ({@link PrivateFiles}: directories 0700, files 0600), for the
 * console, which writes review images, and for the start-up check of directories made before, or by hand.
 */
public final class PrivateData {
    private PrivateData() {
    }

    public static void createDirectories(Path dir) throws IOException {
        PrivateFiles.createDirectories(dir);
    }

    public static void write(Path file, byte[] bytes) throws IOException {
        PrivateFiles.write(file, bytes);
    }

    /**
     * Tabletop's directories (data, configuration) that other users can read, each with the command that
     * fixes it; said once at start-up (the command line on standard error, the console in its log and banner).
     */
    public static List<String> tooOpen() {
        return tooOpen(AppPaths.home(), AppInfo.configDir());
    }

    /**
     * What {@link #tooOpen()} finds that was not reported yet: a marker in the data directory remembers what
     * was said, so each finding is said once (again if it changes).
     */
    public static List<String> tooOpenNotReported() {
        List<String> now = tooOpen();
        java.nio.file.Path marker = AppPaths.home().resolve(".open-permissions-reported");
        try {
            String said = java.nio.file.Files.exists(marker) ? java.nio.file.Files.readString(marker) : "";
            String text = String.join("\n", now);
            if (now.isEmpty() || said.equals(text)) {
                return List.of();
            }
            if (java.nio.file.Files.isDirectory(AppPaths.home())) {
                PrivateFiles.writeString(marker, text);
            }
        } catch (IOException | RuntimeException e) {
            // cannot remember: say it every time rather than never
        }
        return now;
    }

    static List<String> tooOpen(Path data, Path config) {
        List<String> out = new ArrayList<>();
        PrivateFiles.tooOpen(data).ifPresent(out::add);
        PrivateFiles.tooOpen(config).ifPresent(out::add);
        return out;
    }
}
