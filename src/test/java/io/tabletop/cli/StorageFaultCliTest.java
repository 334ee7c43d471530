package io.tabletop.cli;

import org.junit.jupiter.api.Test;
import io.tabletop.testing.OwnHome;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static io.tabletop.cli.TabletopCliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line under storage faults: a log that cannot be written stops `apply` in one line; a torn one is named by `audit`. */
class StorageFaultCliTest {
    @RegisterExtension
    final OwnHome own = new OwnHome();

    @Test
    void applyWhoseAuditLogCannotBeWrittenRunsNothingAndSaysWhyInOneLine() throws Exception {
        Path log = own.path().resolve("audit.jsonl");
        Files.createDirectories(log); // not writable, not even by root
        TabletopCliTest.Result r = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-3", "--yes");
        assertEquals(1, r.code(), r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("tabletop: cannot write the audit log " + log + ": Is a directory"), r.err());
        assertFalse(r.out().contains("SUCCEEDED"), "no step ran: " + r.out());
    }

    @Test
    void aTornAuditTailIsNamedByAuditAndAuditingGoesOn() throws Exception {
        assertEquals(0, run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-2", "--yes").code());
        Path log = own.path().resolve("audit.jsonl");
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 40); // truncate -s -40 audit.jsonl
        }
        long records = Files.readAllLines(log).size();
        TabletopCliTest.Result second = run("apply", "--connect", "sandbox:baseline:instant", "--remove", "ts-3", "--yes");
        assertEquals(0, second.code(), second.err());
        assertTrue(Files.readAllLines(log).size() > records + 10, "the second run is audited");
        TabletopCliTest.Result audit = run("audit");
        assertEquals(0, audit.code(), audit.err() + audit.out());
        assertTrue(audit.out().contains("note: cut at line " + records + ", torn bytes in " + log + ".torn-"), audit.out());
        assertTrue(audit.out().contains("hash chain intact"), audit.out());
    }
}
