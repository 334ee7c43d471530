package io.tabletop.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The append-only audit log ({@code audit.jsonl}): one record per action, with the time, the OS user, the
 * cluster, the run and step, and the exact engine command (connectors never put secrets in it). Each
 * record carries the SHA-256 of the previous record's hash and its own content, so an edited, removed or
 * reordered line breaks the chain; {@link #verify} finds where. Thread-safe: one monitor per file within
 * the JVM, and a file lock keeps two processes from interleaving.
 */
public final class AuditLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String GENESIS = "0".repeat(64);
    private final Path file;

    public AuditLog(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /** One action. {@code step} and {@code command} may be null (a run-level action). */
    public record Entry(Instant at, String user, String cluster, String run, String step, String action, String command) {
    }

    /** One monitor per file in this JVM: file locks only keep other processes out. */
    private static final ConcurrentHashMap<Path, Object> MONITORS = new ConcurrentHashMap<>();

    public void append(Entry e) throws IOException {
        synchronized (MONITORS.computeIfAbsent(file.toAbsolutePath().normalize(), k -> new Object())) {
            appendLocked(e);
        }
    }

    private void appendLocked(Entry e) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
             var lock = ch.lock()) {
            String prev = lastHash(ch);
            ObjectNode n = JSON.createObjectNode().put("at", e.at().toString()).put("user", e.user()).put("cluster", e.cluster())
                    .put("run", e.run());
            if (e.step() != null) {
                n.put("step", e.step());
            }
            n.put("action", e.action());
            if (e.command() != null) {
                n.put("command", e.command());
            }
            n.put("tabletop", BuildInfo.version());
            n.put("prev", prev);
            n.put("hash", hash(prev, n));
            ch.position(ch.size());
            ByteBuffer b = ByteBuffer.wrap((JSON.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(false);
        }
    }

    /** The first place the chain breaks ("line 4: ..."), or empty when every record is as written. */
    public static Optional<String> verify(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String prev = GENESIS;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode n;
            try {
                n = JSON.readTree(lines.get(i));
            } catch (IOException e) {
                return Optional.of("line " + (i + 1) + ": not JSON");
            }
            if (!(n instanceof ObjectNode o) || !o.hasNonNull("hash") || !o.hasNonNull("prev")) {
                return Optional.of("line " + (i + 1) + ": not an audit record");
            }
            if (!o.get("prev").asText().equals(prev)) {
                return Optional.of("line " + (i + 1) + ": does not follow line " + i + " (a record was removed, added or reordered)");
            }
            String claimed = o.get("hash").asText();
            ObjectNode content = o.deepCopy();
            content.remove("hash");
            if (!hash(prev, content).equals(claimed)) {
                return Optional.of("line " + (i + 1) + ": its content does not match its hash (edited)");
            }
            prev = claimed;
        }
        return Optional.empty();
    }

    /** Number of records. */
    public static int count(Path file) throws IOException {
        return Files.exists(file) ? (int) Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).count() : 0;
    }

    private static String lastHash(FileChannel ch) throws IOException {
        long size = ch.size();
        if (size == 0) {
            return GENESIS;
        }
        // Read back from the end to the start of the last line.
        int chunk = (int) Math.min(size, 8192);
        ByteBuffer b = ByteBuffer.allocate(chunk);
        ch.read(b, size - chunk);
        String tail = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).stripTrailing();
        String last = tail.substring(tail.lastIndexOf('\n') + 1);
        try {
            return JSON.readTree(last).path("hash").asText(GENESIS);
        } catch (IOException e) {
            throw new IOException("the audit log's last line is damaged; check it with `tabletop audit --verify`", e);
        }
    }

    private static String hash(String prev, ObjectNode content) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(prev.getBytes(StandardCharsets.UTF_8));
            d.update((byte) '\n');
            d.update(JSON.writeValueAsBytes(content));
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
