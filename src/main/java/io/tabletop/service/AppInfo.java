package io.tabletop.service;

import io.tabletop.store.BuildInfo;
import io.tabletop.store.ConnectionStore;

import java.nio.file.Path;

/** What the About dialog shows: this build's version (pom.xml's), its third-party notice, and where its files are. */
public final class AppInfo {
    private AppInfo() {
    }

    public static String version() {
        return BuildInfo.version();
    }

    public static String thirdPartyNotice() {
        return BuildInfo.thirdPartyNotice();
    }

    /** Where saved connections and the console's settings live. */
    public static Path configDir() {
        return ConnectionStore.defaultFile().getParent();
    }
}
