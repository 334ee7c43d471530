package io.tabletop.store;

import io.tabletop.cli.TabletopCliTest;
import io.tabletop.connector.sandbox.SandboxFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A file that is not JSON text gets a message that says what it is instead. */
class JsonTextTest {
    @TempDir
    Path dir;

    private String refusal(byte[] content) throws Exception {
        Path f = dir.resolve("f-" + System.nanoTime());
        Files.write(f, content);
        return assertThrows(FormatException.class, () -> SnapshotJson.read(f)).getMessage().substring(f.toString().length() + 2);
    }

    @Test
    void eachKindOfNotJsonIsNamed() throws Exception {
        byte[] random = new byte[4096];
        new Random(7).nextBytes(random);
        random[100] = 0;
        assertTrue(refusal(random).startsWith("a binary file, not JSON text"), refusal(random));
        assertEquals("empty; a snapshot is JSON text", refusal(new byte[0]));
        assertEquals("empty; a snapshot is JSON text", refusal("  \n\t\n".getBytes(StandardCharsets.UTF_8)));
        assertEquals("UTF-16 text; a snapshot is JSON in UTF-8 (save it as UTF-8)", refusal(withBom("{\"servers\":[]}")));
        assertTrue(refusal("{\"cluster\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1)).startsWith("not UTF-8 text"));
        assertEquals("a directory, not a snapshot file", assertThrows(FormatException.class, () -> SnapshotJson.read(dir)).getMessage()
                .substring(dir.toString().length() + 2));
    }

    private static byte[] withBom(String s) {
        byte[] body = s.getBytes(StandardCharsets.UTF_16LE);
        byte[] out = new byte[body.length + 2];
        out[0] = (byte) 0xFF;
        out[1] = (byte) 0xFE;
        System.arraycopy(body, 0, out, 2, body.length);
        return out;
    }

    @Test
    void aUtf8FileWithAByteOrderMarkIsRead() throws Exception {
        Path f = dir.resolve("bom.json");
        SnapshotJson.write(SandboxFixtures.small(), f);
        byte[] text = Files.readAllBytes(f);
        byte[] bom = new byte[text.length + 3];
        bom[0] = (byte) 0xEF;
        bom[1] = (byte) 0xBB;
        bom[2] = (byte) 0xBF;
        System.arraycopy(text, 0, bom, 3, text.length);
        Files.write(f, bom);
        assertEquals(SandboxFixtures.small().partitions().size(), SnapshotJson.read(f).partitions().size());
    }

    @Test
    void theCommandLineSaysSoInOneLine() throws Exception {
        Path bin = dir.resolve("random.bin");
        byte[] random = new byte[2048];
        new Random(3).nextBytes(random);
        random[0] = 0;
        Files.write(bin, random);
        TabletopCliTest.Result r = TabletopCliTest.run("plan", "--snapshot", bin.toString(), "--remove", "ts-1");
        assertEquals(1, r.code());
        assertEquals("tabletop: " + bin + ": a binary file, not JSON text; a snapshot is JSON (tabletop snapshot writes one)\n", r.err());
    }
}
