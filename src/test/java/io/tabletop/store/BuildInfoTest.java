package io.tabletop.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The version shown everywhere is pom.xml's: the command line, the audit records, the third-party notice beside it. */
public class BuildInfoTest {
    @TempDir
    Path dir;

    public static String pomVersion() throws Exception {
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>tabletop</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "pom.xml names its version");
        return m.group(1);
    }

    @Test
    void theVersionIsThePoms() throws Exception {
        String v = pomVersion();
        assertEquals(v, BuildInfo.version());
        java.io.StringWriter out = new java.io.StringWriter();
        int code = io.tabletop.cli.TabletopCli.run(io.tabletop.Main.cliContext(), new String[]{"--version"},
                new java.io.PrintWriter(out), new java.io.PrintWriter(new java.io.StringWriter()));
        assertEquals(0, code);
        assertEquals("tabletop " + v, out.toString().strip());

        Path audit = dir.resolve("audit.jsonl");
        new AuditLog(audit).append(new AuditLog.Entry(Instant.now(), "dba", "sandbox", "r1", null, "run started", null));
        assertTrue(Files.readString(audit).contains("\"tabletop\":\"" + v + "\""), "each audit record names the version that wrote it");
        assertEquals(java.util.Optional.empty(), AuditLog.verify(audit), "and the chain still verifies");

        String notice = BuildInfo.thirdPartyNotice();
        assertTrue(notice.contains("javafx-controls") && notice.contains("jackson-databind") && notice.contains("GPLv2+CE"),
                "the generated notice names the bundled libraries and their licenses: " + notice);
        assertTrue(!notice.contains("junit"), "test libraries are not bundled");
    }
}
