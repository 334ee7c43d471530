package io.tabletop.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An append whose head file cannot be replaced leaves no record behind it: the caller's "not in the log" is true (issue 31). */
class AuditHeadFaultTest {
    @TempDir
    Path dir;

    private static AuditLog.Entry entry(String action) {
        return new AuditLog.Entry(Instant.now(), "op", "c1", "RUN-1", null, action, null);
    }

    @Test
    void aRecordWhoseHeadCannotBeWrittenIsTakenBackOff() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        AuditLog log = new AuditLog(file);
        log.append(entry("first"));
        Path tmp = AuditLog.headFile(file).resolveSibling(AuditLog.headFile(file).getFileName() + ".tmp");
        Files.createDirectories(tmp.resolve("in-the-way")); // the head cannot be written, not even by root
        IOException e = assertThrows(IOException.class, () -> log.append(entry("second")));
        assertTrue(e.getMessage().startsWith("cannot write the audit log " + file + ": its head file"), e.getMessage());
        assertEquals(1, AuditLog.count(file), "the record whose head failed is not in the log");
        AuditLog.Report r = AuditLog.check(file, List.of());
        assertTrue(r.intact() && r.notes().isEmpty(), r.problems() + " " + r.notes());

        Files.delete(tmp.resolve("in-the-way"));
        Files.delete(tmp);
        assertEquals(2, log.append(entry("third")).count());
        assertEquals(2, AuditLog.count(file));
    }

    @Test
    void withoutAHeadFileTheCountIsReadThroughTheLockedChannel() throws Exception {
        // (the lock itself is not tested: a POSIX lock released by a second descriptor only shows to another process)
        Path file = dir.resolve("audit.jsonl");
        AuditLog log = new AuditLog(file);
        for (int i = 0; i < 3; i++) {
            log.append(entry("r" + i));
        }
        Files.delete(AuditLog.headFile(file));
        assertEquals(4, log.append(entry("r3")).count());
        assertTrue(AuditLog.check(file, List.of()).intact());
    }
}
