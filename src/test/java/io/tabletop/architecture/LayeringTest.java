package io.tabletop.architecture;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layers of ARCHITECTURE.md, enforced on the source: who may use JavaFX, ControlsFX, Jackson, OkHttp
 * and picocli, and which of our packages may use which. Reads imports and qualified names in code
 * (comments are skipped).
 */
class LayeringTest {
    private static final Path MAIN = Path.of("src/main/java/io/tabletop");
    private static final Pattern REF = Pattern.compile("\\b(javafx|org\\.controlsfx|com\\.fasterxml\\.jackson|okhttp3|picocli|io\\.tabletop\\.[a-z]+(?:\\.[a-z]+)?)\\.");

    /** Our packages, and what each may use of ours (besides itself). */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "domain", Set.of(),
            "planner", Set.of("domain"),
            "connector", Set.of("domain"),
            "connector.sandbox", Set.of("connector", "domain"),
            "connector.kudu", Set.of("connector", "domain"),
            "executor", Set.of("planner", "connector", "domain"),
            "store", Set.of("planner", "domain"),
            "service", Set.of("executor", "planner", "connector", "connector.sandbox", "connector.kudu", "store", "domain"),
            "cli", Set.of("service", "executor", "planner", "connector", "store", "domain"),
            "ui", Set.of("cli", "service", "executor", "planner", "connector", "connector.sandbox", "domain"));

    record Use(String pkg, String file, String target) {
    }

    static List<Use> uses() throws IOException {
        List<Use> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = MAIN.relativize(f.getParent()).toString().replace('/', '.');
                boolean inBlock = false;
                for (String line : Files.readAllLines(f)) {
                    String t = line.strip();
                    if (inBlock) {
                        inBlock = !t.contains("*/");
                        continue;
                    }
                    if (t.startsWith("/*")) {
                        inBlock = !t.contains("*/");
                        continue;
                    }
                    if (t.startsWith("//") || t.startsWith("*") || t.startsWith("package ")) {
                        continue;
                    }
                    Matcher m = REF.matcher(t.replaceAll("\"([^\"\\\\]|\\\\.)*\"", "\"\""));
                    while (m.find()) {
                        out.add(new Use(pkg, f.getFileName().toString(), m.group(1)));
                    }
                }
            }
        }
        return out;
    }

    @Test
    void javafxAndControlsfxOnlyInUi() throws IOException {
        List<Use> bad = uses().stream().filter(u -> (u.target.equals("javafx") || u.target.equals("org.controlsfx"))
                && !u.pkg.equals("ui")).toList();
        assertEquals(List.of(), bad);
    }

    @Test
    void jacksonAndOkhttpOnlyInAdaptersAndStores() throws IOException {
        List<Use> bad = uses().stream().filter(u -> (u.target.equals("com.fasterxml.jackson") || u.target.equals("okhttp3"))
                && !(u.pkg.equals("store") || (u.pkg.startsWith("connector.") && !u.pkg.equals("connector")))).toList();
        assertEquals(List.of(), bad);
    }

    @Test
    void picocliOnlyInTheCommandLine() throws IOException {
        assertEquals(List.of(), uses().stream().filter(u -> u.target.equals("picocli") && !u.pkg.equals("cli")).toList());
    }

    @Test
    void nothingImportsUi() throws IOException {
        assertEquals(List.of(), uses().stream().filter(u -> u.target.startsWith("io.tabletop.ui") && !u.pkg.equals("ui")).toList());
    }

    @Test
    void eachLayerUsesOnlyTheLayersBelowIt() throws IOException {
        List<String> bad = new ArrayList<>();
        List<Use> all = uses();
        assertTrue(all.stream().anyMatch(u -> u.target.startsWith("io.tabletop.")), "the scan sees our own packages");
        for (Use u : all) {
            if (!u.target.startsWith("io.tabletop.")) {
                continue;
            }
            String target = u.target.substring("io.tabletop.".length());
            if (!ALLOWED.containsKey(target)) {
                target = target.contains(".") ? target.substring(0, target.indexOf('.')) : target;
            }
            Set<String> ok = ALLOWED.get(u.pkg);
            assertTrue(ok != null, "package io.tabletop." + u.pkg + " is not in the layer table");
            if (!target.equals(u.pkg) && !ok.contains(target)) {
                bad.add(u.pkg + " (" + u.file + ") uses " + target);
            }
        }
        assertEquals(List.of(), bad);
    }
}
