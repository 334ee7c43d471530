package io.tabletop.service;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's remembered settings: a round trip, and every kind of bad file giving the defaults. */
class UiSettingsTest {
    @TempDir
    Path dir;

    @Test
    void whatIsSavedComesBack() throws Exception {
        Path f = dir.resolve("config").resolve("settings.properties");
        UiSettings s = new UiSettings(120, 80, 1280, 760, true, true, "prod-kudu", Map.of("servers-split", 0.62));
        s.save(f);
        assertEquals(s, UiSettings.load(f));
        assertFalse(Files.readString(f).contains("kudu://"), "a connection's name only, never its spec");
        assertEquals(UiSettings.defaults(), UiSettings.load(dir.resolve("none.properties")), "no file: the defaults");
        assertFalse(UiSettings.defaults().placed());
        assertNull(UiSettings.defaults().lastConnection());
    }

    @Test
    void aDamagedOrForeignFileGivesTheDefaults() throws Exception {
        Path f = dir.resolve("settings.properties");
        Files.write(f, new byte[]{0, (byte) 0xff, 0x13, 0x37});
        assertEquals(UiSettings.defaults(), UiSettings.load(f), "binary");
        Files.writeString(f, "[1,2,3]");
        assertEquals(UiSettings.defaults(), UiSettings.load(f), "something else, not settings");
        Files.writeString(f, "width=5\nheight=1e9\ndivider.servers-split=7\ndivider.x=0.3\nx=left\n");
        UiSettings odd = UiSettings.load(f);
        assertEquals(UiSettings.defaults().width(), odd.width(), "a window too small to use is not restored");
        assertEquals(UiSettings.defaults().height(), odd.height());
        assertEquals(Map.of("x", 0.3), odd.dividers(), "a divider outside 0..1 is dropped");
        Files.writeString(f, "width=800\n" + "a=1\n".repeat(20_000));
        assertEquals(UiSettings.defaults(), UiSettings.load(f), "larger than settings ever are");
        assertTrue(Files.exists(f), "a bad file is left for the operator to look at, and overwritten on the next close");
    }
}
