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
    private static final Pattern REF = Pattern.compile("\\b(javafx|org\\.controlsfx|org\\.apache\\.kudu|com\\.fasterxml\\.jackson|okhttp3|picocli|io\\.tabletop\\.[a-z]+(?:\\.[a-z]+)?)\\.");

    /** Our packages, and what each may use of ours (besides itself). */
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("domain", Set.of()),
            Map.entry("planner", Set.of("domain")),
            Map.entry("connector", Set.of("domain")),
            Map.entry("connector.sandbox", Set.of("connector", "domain")),
            Map.entry("connector.kudu", Set.of("connector", "domain")),
            Map.entry("connector.couchbase", Set.of("connector", "domain")),
            Map.entry("connector.openmldb", Set.of("connector", "domain")),
            Map.entry("executor", Set.of("planner", "connector", "domain")),
            Map.entry("store", Set.of("planner", "domain")),
            Map.entry("service", Set.of("executor", "planner", "connector", "store", "domain")),
            Map.entry("cli", Set.of("service", "executor", "planner", "connector", "store", "domain")),
            Map.entry("ui", Set.of("service", "executor", "planner", "connector", "domain")),
            // Benchmarks of one engine drive its local clusters directly; nothing but the root imports them.
            Map.entry("bench", Set.of("service", "executor", "planner", "connector", "connector.kudu", "connector.sandbox", "store", "domain")),
            // The root (io.tabletop.Main) wires the registry: it alone may name every engine.
            Map.entry("", Set.of("cli", "ui", "bench", "service", "connector", "connector.sandbox", "connector.kudu", "connector.couchbase", "connector.openmldb", "domain")));

    /** The packages that must stay engine-neutral: no engine package, and no engine's name in code. */
    private static final List<String> NEUTRAL = List.of("service", "cli", "ui");

    record Use(String pkg, String file, String target) {
    }

    static List<Use> uses() throws IOException {
        List<Use> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = f.getParent().equals(MAIN) ? "" : MAIN.relativize(f.getParent()).toString().replace('/', '.');
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

    /** Kudu's Java client (its consensus calls) belongs to the Kudu connector alone. */
    @Test
    void kuduClientOnlyInTheKuduConnector() throws IOException {
        List<Use> bad = uses().stream().filter(u -> u.target.equals("org.apache.kudu") && !u.pkg.equals("connector.kudu")).toList();
        assertEquals(List.of(), bad);
        assertTrue(uses().stream().anyMatch(u -> u.target.equals("org.apache.kudu") && u.pkg.equals("connector.kudu")),
                "the rule reads the Kudu connector's imports");
    }

    @Test
    void picocliOnlyInTheCommandLine() throws IOException {
        assertEquals(List.of(), uses().stream().filter(u -> u.target.equals("picocli") && !u.pkg.equals("cli")).toList());
    }

    @Test
    void noEnginePackageOutsideTheRoot() throws IOException {
        List<Use> bad = uses().stream().filter(u -> u.target.startsWith("io.tabletop.connector.") && NEUTRAL.contains(u.pkg)).toList();
        assertEquals(List.of(), bad);
    }

    /**
     * "kudu" appears in service, cli and ui only in comments: an engine's commands, specs and wording
     * come from its provider. String literals count (a {@code "kudu://"} check is what this rules out).
     */
    @Test
    void noEngineNameInNeutralCode() throws IOException {
        List<String> bad = new ArrayList<>();
        for (String pkg : NEUTRAL) {
            try (Stream<Path> files = Files.walk(MAIN.resolve(pkg))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    int n = 0;
                    for (String line : code(f)) {
                        n++;
                        if (line.toLowerCase(java.util.Locale.ROOT).contains("kudu")) {
                            bad.add(pkg + "/" + f.getFileName() + ": " + line.strip());
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), bad);
    }

    /** A file's lines with comments blanked (line comments, block comments and Javadoc). */
    static List<String> code(Path f) throws IOException {
        List<String> out = new ArrayList<>();
        boolean inBlock = false;
        for (String line : Files.readAllLines(f)) {
            StringBuilder b = new StringBuilder();
            boolean inString = false;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (inBlock) {
                    if (c == '*' && i + 1 < line.length() && line.charAt(i + 1) == '/') {
                        inBlock = false;
                        i++;
                    }
                    continue;
                }
                if (inString) {
                    b.append(c);
                    if (c == '\\' && i + 1 < line.length()) {
                        b.append(line.charAt(++i));
                    } else if (c == '"') {
                        inString = false;
                    }
                    continue;
                }
                if (c == '"') {
                    inString = true;
                } else if (c == '/' && i + 1 < line.length() && line.charAt(i + 1) == '/') {
                    break;
                } else if (c == '/' && i + 1 < line.length() && line.charAt(i + 1) == '*') {
                    inBlock = true;
                    i++;
                    continue;
                }
                b.append(c);
            }
            out.add(b.toString());
        }
        return out;
    }

    /**
     * An emulator stands in for a server Tabletop cannot run here; it is written from the engine's documented
     * shapes, so it may not use any of Tabletop's code (a forecast tested against an emulator that asked the
     * planner would prove nothing).
     */
    @Test
    void emulatorsUseNoneOfTabletopsCode() throws IOException {
        Path emulators = Path.of("src/test/java/io/tabletop/emulator");
        List<String> bad = new ArrayList<>();
        try (Stream<Path> files = Files.walk(emulators)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String code = Files.readString(f);
                Matcher m = Pattern.compile("\\bio\\.tabletop\\.(?!emulator\\b)[a-z]+").matcher(code);
                while (m.find()) {
                    bad.add(f.getFileName() + " uses " + m.group());
                }
            }
        }
        assertTrue(bad.isEmpty(), String.join("; ", bad));
    }

    @Test
    void nothingImportsUi() throws IOException {
        assertEquals(List.of(), uses().stream().filter(u -> u.target.startsWith("io.tabletop.ui") && !u.pkg.equals("ui") && !u.pkg.isEmpty()).toList());
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
