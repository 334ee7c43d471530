package io.tabletop.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;

/**
 * The repair of a JSON-lines file whose last line was cut short (a crash or a full disk while it was
 * written, or a truncation): the torn bytes are moved aside to {@code FILE.torn-TIME} and cut off, so that
 * writing goes on on a fresh line. A torn line is never written over, and never glued onto.
 * A last line that is whole JSON and lacks only its newline gets the newline.
 */
public final class TornTail {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private TornTail() {
    }

    /** What a repair moved aside: the torn line's number (1-based), how many bytes, and where they are now. */
    public record Cut(long line, long bytes, Path tornFile) {
        /** "cut at line 56: 312 torn byte(s) moved aside to audit.jsonl.torn-…". */
        public String describe() {
            return "cut at line " + line + ": " + bytes + " torn byte(s) moved aside to " + tornFile;
        }
    }

    /**
     * Repairs {@code ch} (open for reading and writing, on {@code file}, under the caller's lock): empty when
     * its last line was whole, else the cut. Leaves the channel's position at its end.
     */
    public static Optional<Cut> repair(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        if (size == 0) {
            return Optional.empty();
        }
        long start = lastLineStart(ch, size);
        byte[] tail = read(ch, start, size - start);
        boolean newline = tail.length > 0 && tail[tail.length - 1] == '\n';
        if (newline && parses(tail)) {
            ch.position(size);
            return Optional.empty();
        }
        if (!newline && parses(tail)) {
            ch.position(size);
            write(ch, new byte[] {'\n'});
            ch.force(false);
            return Optional.empty();
        }
        Path torn = file.resolveSibling(file.getFileName() + ".torn-" + STAMP.format(Instant.now()));
        for (int k = 2; Files.exists(torn); k++) {
            torn = file.resolveSibling(file.getFileName() + ".torn-" + STAMP.format(Instant.now()) + "-" + k);
        }
        PrivateFiles.write(torn, tail);
        long line = lineNumber(ch, start);
        ch.truncate(start);
        ch.force(false);
        ch.position(ch.size());
        return Optional.of(new Cut(line, tail.length, torn));
    }

    /** The cause of a failed write in words ("No space left on device", "read-only file system", "AccessDeniedException"). */
    public static String why(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        if (e instanceof FileSystemException) {
            return e.getClass().getSimpleName().replace("Exception", "").replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(Locale.ROOT);
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** The offset where the last line starts: after the last newline that is not the file's last byte. */
    private static long lastLineStart(FileChannel ch, long size) throws IOException {
        long end = size - 1; // a newline as the very last byte ends the last line, it does not start it
        long pos = end;
        ByteBuffer b = ByteBuffer.allocate(8192);
        while (pos > 0) {
            int n = (int) Math.min(b.capacity(), pos);
            b.clear().limit(n);
            ch.read(b, pos - n);
            for (int i = n - 1; i >= 0; i--) {
                if (b.get(i) == '\n') {
                    return pos - n + i + 1;
                }
            }
            pos -= n;
        }
        return 0;
    }

    private static long lineNumber(FileChannel ch, long start) throws IOException {
        long lines = 0;
        ByteBuffer b = ByteBuffer.allocate(65536);
        for (long pos = 0; pos < start; ) {
            b.clear().limit((int) Math.min(b.capacity(), start - pos));
            int n = ch.read(b, pos);
            if (n <= 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                if (b.get(i) == '\n') {
                    lines++;
                }
            }
            pos += n;
        }
        return lines + 1;
    }

    private static byte[] read(FileChannel ch, long from, long n) throws IOException {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IOException("a last line of " + n + " bytes is too long to repair");
        }
        ByteBuffer b = ByteBuffer.allocate((int) n);
        while (b.hasRemaining()) {
            if (ch.read(b, from + b.position()) < 0) {
                break;
            }
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private static void write(FileChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static boolean parses(byte[] line) {
        String s = new String(line, StandardCharsets.UTF_8).strip();
        if (s.isEmpty()) {
            return true;
        }
        try {
            JsonNode n = JSON.readTree(s);
            return n != null && n.isObject();
        } catch (IOException e) {
            return false;
        }
    }
}
