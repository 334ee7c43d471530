package io.tabletop.store;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** This build's version, from pom.xml (a resource Maven filters): the one source for every place that shows it. */
public final class BuildInfo {
    private static final String VERSION = load();

    private BuildInfo() {
    }

    /** "0.1.0-SNAPSHOT"; "unknown" only if the resource is missing (a broken build). */
    public static String version() {
        return VERSION;
    }

    /**
     * The libraries bundled with Tabletop and their licenses, generated at build time from their POMs by
     * the license-maven-plugin; a line saying it is missing otherwise.
     */
    public static String thirdPartyNotice() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("/io/tabletop/THIRD-PARTY.txt")) {
            return in == null ? "(no third-party notice in this build)" : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "(the third-party notice could not be read: " + e.getMessage() + ")";
        }
    }

    private static String load() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("/io/tabletop/build.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.contains("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
