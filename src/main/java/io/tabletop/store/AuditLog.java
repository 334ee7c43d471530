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
 * reordered line breaks the chain; {@link #verify} finds where.
 *
 * <p>A chain alone cannot show that its last records were cut off. So the log's <em>head</em> (how many
 * records, and the last one's hash) is kept where a truncation shows: in a small head file beside the log,
 * replaced atomically with every append ({@code audit.jsonl.head}), and in each run's journal when the run
 * starts and ends ({@link Anchor}). {@link #check} compares the log with both. It does not protect against
 * someone who can rewrite the log, its head file and every journal consistently: that needs a copy out of
 * their reach (ship the log to a log server).
 *
 * <p>Thread-safe: one monitor per file within the JVM, and a file lock keeps two processes from interleaving.
 */
public final class AuditLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String GENESIS = "0".repeat(64);
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(AuditLog.class.getName());
    private final Path file;
    private final Storage storage;

    public AuditLog(Path file) {
        this(file, Storage.DISK);
    }

    /** A log whose file is opened through {@code storage} (tests: a store that refuses writes or fills up). */
    public AuditLog(Path file, Storage storage) {
        this.file = file;
        this.storage = storage;
    }

    public Path file() {
        return file;
    }

    /** The log's head: how many records, and the last one's hash. */
    public record Head(long count, String hash) {
        public static final Head EMPTY = new Head(0, GENESIS);
    }

    /** A head a run's journal recorded when the run started or ended. */
    public record Anchor(String runId, String when, Head head) {
    }

    /** What {@link #check} found: the records, and each problem in words (none: the log is whole). */
    public record Report(long records, List<String> problems, List<String> notes) {
        public boolean intact() {
            return problems.isEmpty();
        }

        /** One line: "289 record(s), hash chain intact, head file and 12 run anchor(s) agree" or the first problem. */
        public String summary(int anchors) {
            return intact() ? records + " record(s), hash chain intact, head file and " + anchors + " run anchor(s) agree"
                    : problems.get(0) + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : "");
        }
    }

    /** The head file beside the log. */
    public static Path headFile(Path log) {
        return log.resolveSibling(log.getFileName() + ".head");
    }

    /** One action. {@code step} and {@code command} may be null (a run-level action). */
    public record Entry(Instant at, String user, String cluster, String run, String step, String action, String command) {
    }

    /** One monitor per file in this JVM: file locks only keep other processes out. */
    private static final ConcurrentHashMap<Path, Object> MONITORS = new ConcurrentHashMap<>();

    /**
     * Appends a record, synced to disk; returns the log's new head. A torn last line (a crash or a full disk
     * while it was written, a truncation) is first moved aside to {@code audit.jsonl.torn-TIME}, and a record
     * saying where the log was cut goes into the chain before this one ({@link TornTail}). A write that fails
     * is cut back off where it can be, and throws, naming the file and the cause.
     */
    public Head append(Entry e) throws IOException {
        synchronized (MONITORS.computeIfAbsent(file.toAbsolutePath().normalize(), k -> new Object())) {
            return appendLocked(e);
        }
    }

    private Head appendLocked(Entry e) throws IOException {
        try {
            PrivateFiles.createDirectories(file.toAbsolutePath().getParent());
        } catch (IOException x) {
            throw new IOException("cannot write the audit log " + file + ": " + TornTail.why(x), x);
        }
        try (FileChannel ch = storage.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
             var lock = ch.lock()) {
            Optional<TornTail.Cut> cut = TornTail.repair(ch, file);
            String prev = lastHash(ch);
            long count = countBefore(ch, prev);
            if (cut.isPresent()) {
                TornTail.Cut c = cut.get();
                LOG.warning("the audit log " + file + " ended in a torn record: " + c.describe() + "; the chain goes on from line "
                        + (c.line() - 1) + " (tabletop audit names the cut)");
                ObjectNode n = JSON.createObjectNode().put("at", e.at().toString()).put("user", e.user()).put("cluster", e.cluster());
                n.putNull("run");
                n.put("action", "audit log cut at line " + c.line() + ": a torn record (" + c.bytes() + " bytes) was moved aside to "
                        + c.tornFile().getFileName() + "; the chain goes on from line " + (c.line() - 1));
                n.put("cut", c.line()).put("torn", c.tornFile().getFileName().toString());
                prev = write(ch, n, prev);
                count++;
            }
            ObjectNode n = JSON.createObjectNode().put("at", e.at().toString()).put("user", e.user()).put("cluster", e.cluster())
                    .put("run", e.run());
            if (e.step() != null) {
                n.put("step", e.step());
            }
            n.put("action", e.action());
            if (e.command() != null) {
                n.put("command", e.command());
            }
            long own = ch.size();
            String hash = write(ch, n, prev);
            Head head = new Head(count + 1, hash);
            try {
                writeHead(head);
            } catch (IOException x) {
                // The record is on disk but its head is not: take the record back off, so that the caller's
                // "not in the audit log" (a vetoed step, an audit-gap) is true, not a false gap.
                try {
                    ch.truncate(own);
                    ch.force(false);
                } catch (IOException | RuntimeException y) {
                    x.addSuppressed(y);
                    throw new IOException("cannot write the audit log " + file + ": its head file " + headFile(file) + " could not be replaced ("
                            + TornTail.why(x) + "), and the record could not be taken back off: `tabletop audit` shows it after the head", x);
                }
                throw new IOException("cannot write the audit log " + file + ": its head file " + headFile(file) + " could not be replaced ("
                        + TornTail.why(x) + "); the record was taken back off", x);
            }
            return head;
        } catch (IOException x) {
            if (x.getMessage() != null && x.getMessage().startsWith("cannot write the audit log ")) {
                throw x;
            }
            throw new IOException("cannot write the audit log " + file + ": " + TornTail.why(x), x);
        }
    }

    /**
     * Chains {@code n} after {@code prev}, appends it and syncs it; its hash. A write that fails is cut back
     * off (a full disk leaves no half record where that can be done; where it cannot, the next append moves
     * it aside).
     */
    private static String write(FileChannel ch, ObjectNode n, String prev) throws IOException {
        n.put("tabletop", BuildInfo.version());
        n.put("prev", prev);
        n.put("hash", hash(prev, n));
        long before = ch.size();
        ch.position(before);
        ByteBuffer b = ByteBuffer.wrap((JSON.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(false);
        } catch (IOException x) {
            try {
                ch.truncate(before);
                ch.force(false);
            } catch (IOException | RuntimeException y) {
                x.addSuppressed(y);
            }
            throw x;
        }
        return n.get("hash").asText();
    }

    /** The records before this append: the head file's count when it agrees with the log's last hash, else counted. */
    private long countBefore(FileChannel ch, String lastHash) throws IOException {
        Optional<Head> h = readHead(headFile(file));
        if (h.isPresent() && h.get().hash().equals(lastHash)) {
            return h.get().count();
        }
        return ch.size() == 0 ? 0 : count(ch);
    }

    /**
     * The records in the log, read through {@code ch}: the caller holds the channel's lock, and opening the file
     * again and closing it would release that lock (POSIX fcntl locks belong to the process and the file).
     */
    private static long count(FileChannel ch) throws IOException {
        long n = 0;
        boolean blank = true;
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        long pos = 0;
        while (true) {
            b.clear();
            int r = ch.read(b, pos);
            if (r <= 0) {
                break;
            }
            pos += r;
            for (int i = 0; i < r; i++) {
                byte x = b.get(i);
                if (x == '\n') {
                    if (!blank) {
                        n++;
                    }
                    blank = true;
                } else if (x != ' ' && x != '\t' && x != '\r') {
                    blank = false;
                }
            }
        }
        return blank ? n : n + 1;
    }

    /** Replaces the head file atomically (a reader sees the old head or the new one, never half of one). */
    private void writeHead(Head h) throws IOException {
        Path head = headFile(file);
        Path tmp = head.resolveSibling(head.getFileName() + ".tmp");
        PrivateFiles.writeString(tmp, JSON.createObjectNode().put("count", h.count()).put("hash", h.hash()).toString() + "\n");
        Files.move(tmp, head, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The head file's head; empty when there is none or it cannot be read. */
    public static Optional<Head> readHead(Path headFile) {
        try {
            if (!Files.isRegularFile(headFile) || Files.size(headFile) > 4096) {
                return Optional.empty();
            }
            JsonNode n = JSON.readTree(Files.readString(headFile, StandardCharsets.UTF_8));
            if (n == null || !n.path("count").canConvertToLong() || !n.path("hash").isTextual()) {
                return Optional.empty();
            }
            return Optional.of(new Head(n.path("count").asLong(), n.path("hash").asText()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** This log's head as the log itself has it (counted), for a journal to anchor. */
    public Head head() throws IOException {
        return readHead(headFile(file)).orElse(Head.EMPTY);
    }

    /**
     * The chain, the head file and every anchor the runs' journals hold, against the log: each missing,
     * edited, reordered or cut-off record named ("the last 3 record(s), up to the end of run R, are gone").
     */
    public static Report check(Path file, List<Anchor> anchors) throws IOException {
        List<String> problems = new java.util.ArrayList<>();
        List<String> notes = new java.util.ArrayList<>();
        List<String> lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        verify(lines).ifPresent(b -> problems.add("the hash chain breaks at " + b));
        List<String> hashes = new java.util.ArrayList<>();
        java.util.Map<Long, String> cuts = new java.util.HashMap<>(); // record number of a cut record → its torn file
        for (String line : lines) {
            if (!line.isBlank()) {
                try {
                    JsonNode r = JSON.readTree(line);
                    hashes.add(r.path("hash").asText(""));
                    if (r.hasNonNull("cut")) {
                        cuts.put((long) hashes.size(), r.path("torn").asText("?"));
                        notes.add("cut at line " + r.path("cut").asLong() + ", torn bytes in " + file.resolveSibling(r.path("torn").asText("?"))
                                + "; the chain goes on from the record before it");
                    }
                } catch (IOException e) {
                    hashes.add("");
                }
            }
        }
        long n = hashes.size();
        Optional<Head> head = readHead(headFile(file));
        if (head.isEmpty()) {
            if (n > 0) {
                problems.add("the head file " + headFile(file).getFileName() + " is missing or unreadable: it is written with every record, "
                        + "so records cut off the end would not show");
            }
        } else {
            Head h = head.get();
            if (h.count() > n) {
                problems.add("the last " + (h.count() - n) + " record(s) are gone: the head file counts " + h.count() + ", the log has " + n);
            } else if (h.count() > 0 && !hashes.get((int) h.count() - 1).equals(h.hash())) {
                problems.add("record " + h.count() + " is not the one the head file names (edited or replaced)");
            } else if (h.count() < n) {
                notes.add((n - h.count()) + " record(s) after the head file's last (a write interrupted before the head was replaced)");
            }
        }
        for (Anchor a : anchors) {
            Head h = a.head();
            if (h.count() > n) {
                problems.add("the last " + (h.count() - n) + " record(s) up to the " + a.when() + " of run " + a.runId() + " are gone: its journal saw "
                        + h.count() + " record(s), the log has " + n);
            } else if (h.count() > 0 && !hashes.get((int) h.count() - 1).equals(h.hash()) && cuts.containsKey(h.count())) {
                notes.add("record " + h.count() + ", which run " + a.runId() + "'s journal saw at its " + a.when() + ", was torn: its bytes are in "
                        + file.resolveSibling(cuts.get(h.count())));
            } else if (h.count() > 0 && !hashes.get((int) h.count() - 1).equals(h.hash())) {
                problems.add("record " + h.count() + ", which run " + a.runId() + "'s journal saw at its " + a.when() + ", was edited or replaced");
            }
        }
        return new Report(n, List.copyOf(problems), List.copyOf(notes));
    }

    /** The first place the chain breaks ("line 4: ..."), or empty when every record is as written. */
    public static Optional<String> verify(Path file) throws IOException {
        return Files.exists(file) ? verify(Files.readAllLines(file, StandardCharsets.UTF_8)) : Optional.empty();
    }

    /** {@link #verify(Path)} on the log's lines, read once by the caller. */
    private static Optional<String> verify(List<String> lines) {
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
                return Optional.of("line " + (i + 1) + ": does not follow line " + i + " (a record was removed, added or reordered)" + ofRun(o));
            }
            String claimed = o.get("hash").asText();
            ObjectNode content = o.deepCopy();
            content.remove("hash");
            if (!hash(prev, content).equals(claimed)) {
                return Optional.of("line " + (i + 1) + ": its content does not match its hash (edited)" + ofRun(o));
            }
            prev = claimed;
        }
        return Optional.empty();
    }

    /** ", in run R" when the record belongs to a run. */
    private static String ofRun(ObjectNode o) {
        String run = o.path("run").asText("");
        return run.isEmpty() || run.equals("null") ? "" : ", in run " + run;
    }

    /**
     * The runs the log's records name, each with how many records it has, in the order of their first
     * record. Lines that cannot be read count for no run ({@link #check} names them).
     */
    public static java.util.Map<String, Integer> runRecords(Path file) throws IOException {
        java.util.Map<String, Integer> out = new java.util.LinkedHashMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            try {
                String run = JSON.readTree(line).path("run").asText("");
                if (!run.isEmpty() && !run.equals("null")) {
                    out.merge(run, 1, Integer::sum);
                }
            } catch (IOException e) {
                // not a record: the chain check names the line
            }
        }
        return out;
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
            throw new IOException("the audit log's last line is damaged; `tabletop audit` says where", e);
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
