package io.tabletop.service;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.FileHandler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The log file rotates: it never grows past its limit, and only so many generations are kept. */
class LogSetupTest {
    @TempDir
    Path dir;

    @Test
    void theLogRotatesAndKeepsThreeFiles() throws Exception {
        FileHandler h = LogSetup.rotating(dir, 4_000, 3);
        try {
            for (int i = 0; i < 400; i++) {
                h.publish(new LogRecord(Level.INFO, "record " + i + " " + "x".repeat(60)));
            }
        } finally {
            h.close();
        }
        assertTrue(Files.exists(dir.resolve("tabletop.0.log")));
        assertTrue(Files.exists(dir.resolve("tabletop.1.log")));
        assertTrue(Files.exists(dir.resolve("tabletop.2.log")));
        assertFalse(Files.exists(dir.resolve("tabletop.3.log")), "three generations kept");
        for (int g = 0; g < 3; g++) {
            assertTrue(Files.size(dir.resolve("tabletop." + g + ".log")) <= 4_000 + 200, "generation " + g + " stays near its limit");
        }
        assertTrue(Files.readString(dir.resolve("tabletop.0.log")).contains("record 399"), "the newest is generation 0");
        assertEquals(Path.of("tabletop.0.log"), AppPaths.logFile().getFileName(), "the file the About dialog and errors name");
    }

    @Test
    void theLogAndItsDirectoryArePrivate(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path logs = dir.resolve("data").resolve("logs");
        FileHandler h = LogSetup.rotating(logs, 10_000, 3);
        h.close();
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(logs)));
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(logs.getParent())));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(logs.resolve("tabletop.0.log"))));
    }

    @Test
    void aLogFileThatCannotBeWrittenIsSaidOnceInOneLine(@TempDir Path dir) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        LogSetup.QuietErrors errors = new LogSetup.QuietErrors(dir.resolve("tabletop.0.log"),
                new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        java.io.IOException full = new java.nio.file.FileSystemException(dir.resolve("tabletop.0.log").toString(), null, "No space left on device");
        errors.error("write failure", full, java.util.logging.ErrorManager.WRITE_FAILURE);
        errors.error("flush failure", full, java.util.logging.ErrorManager.FLUSH_FAILURE);
        String said = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, said.lines().count(), said);
        assertEquals("tabletop: cannot write the log " + dir.resolve("tabletop.0.log") + ": No space left on device (further log errors are not shown)",
                said.strip());
    }

    @Test
    void theRotatingHandlerHasTheQuietErrorManager(@TempDir Path dir) throws Exception {
        FileHandler h = LogSetup.rotating(dir, 1000, 2);
        try {
            assertTrue(h.getErrorManager() instanceof LogSetup.QuietErrors);
        } finally {
            h.close();
        }
    }
}
