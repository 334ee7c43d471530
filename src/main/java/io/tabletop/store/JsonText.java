package io.tabletop.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a file that should hold JSON text, and says plainly what it holds instead: nothing, a binary file,
 * text in another encoding (UTF-16, Latin-1), or more than Tabletop reads. Never "Input length = 1".
 */
public final class JsonText {
    /** The largest JSON file read: a snapshot of 100,000 partitions is about 40 MB. */
    public static final long MAX_BYTES = 512L * 1024 * 1024;

    private JsonText() {
    }

    /** The file's text; {@code what} names it in messages ("snapshot", "saved connections"). */
    public static String read(Path file, String what) throws FormatException, IOException {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        }
        if (Files.isDirectory(file)) {
            throw new FormatException(file + ": a directory, not a " + what + " file");
        }
        if (size > MAX_BYTES) {
            throw new FormatException(file + ": " + size / (1024 * 1024) + " MB is more than a " + what + " file can be (at most "
                    + MAX_BYTES / (1024 * 1024) + " MB)");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes((int) Math.min(size + 1, MAX_BYTES + 1));
        }
        return decode(bytes, file.toString(), what);
    }

    /** The text of {@code bytes} read from {@code source}, or a message saying what they are instead. */
    public static String decode(byte[] bytes, String source, String what) throws FormatException {
        if (bytes.length == 0 || new String(bytes, StandardCharsets.ISO_8859_1).isBlank()) {
            throw new FormatException(source + ": empty; a " + what + " is JSON text");
        }
        if (bytes.length >= 2 && ((bytes[0] == (byte) 0xFE && bytes[1] == (byte) 0xFF) || (bytes[0] == (byte) 0xFF && bytes[1] == (byte) 0xFE))) {
            throw new FormatException(source + ": UTF-16 text; a " + what + " is JSON in UTF-8 (save it as UTF-8)");
        }
        int start = bytes.length >= 3 && bytes[0] == (byte) 0xEF && bytes[1] == (byte) 0xBB && bytes[2] == (byte) 0xBF ? 3 : 0;
        for (int i = start; i < Math.min(bytes.length, 65_536); i++) {
            if (bytes[i] == 0) {
                throw new FormatException(source + ": a binary file, not JSON text; a " + what + " is JSON (tabletop snapshot writes one)");
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, start, bytes.length - start)).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException(source + ": not UTF-8 text (binary, or another encoding such as Latin-1); a " + what
                    + " is JSON in UTF-8");
        }
    }
}
