package io.tabletop.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A Tabletop data directory of the test's own ({@code tabletop.home}), made before each test and put back
 * after it, so that runs, journals and the audit log of one test (a damaged run, a torn log) never reach
 * another test's {@code --latest} or {@code audit}. Register with {@code @RegisterExtension}.
 */
public final class OwnHome implements BeforeEachCallback, AfterEachCallback {
    private Path home;
    private String before;

    /** This test's data directory. */
    public Path path() {
        return home;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        home = Files.createTempDirectory("tabletop-home");
        before = System.getProperty("tabletop.home");
        System.setProperty("tabletop.home", home.toString());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (before == null) {
            System.clearProperty("tabletop.home");
        } else {
            System.setProperty("tabletop.home", before);
        }
        try (Stream<Path> files = Files.walk(home)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
