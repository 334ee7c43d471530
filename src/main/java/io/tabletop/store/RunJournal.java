package io.tabletop.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.Step;
import io.tabletop.planner.Plan;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A run's journal: one directory per run, holding {@code journal.jsonl} (one JSON object per line, each
 * written and synced to disk before the call returns), and per attempt the plan ({@code plan-N.json})
 * and, for the first, the snapshot it was made from ({@code snapshot-before.json}).
 *
 * <p>Lines: {@code run} (the header: id, time, OS user, pid, connection, cluster, goal), {@code attempt}
 * (a plan starts running: the first, or a resume), {@code step} (a step starts, and again when it ends,
 * with its state), {@code event} (pause, cancel, a re-route, a note), {@code end} (the run's final state).
 * A crash can cut the last line short; {@link #read} ignores a line it cannot parse at the end.
 * Thread-safe.
 */
public final class RunJournal implements Closeable {
    private static final ObjectMapper LINE = new ObjectMapper();
    private final Path dir;
    private final FileChannel channel;
    private int attempt;
    /** The torn last line {@link #reopen} moved aside, if any. */
    private TornTail.Cut cut;

    private RunJournal(Path dir, FileChannel channel, int attempt) {
        this.dir = dir;
        this.channel = channel;
        this.attempt = attempt;
    }

    /** The header every run starts with. */
    public record Header(String runId, Instant startedAt, String user, long pid, String connect, String cluster,
                         String engine, JsonNode goal, boolean stopLocal) {
    }

    /** Creates the run's directory and journal, and records the first attempt. */
    public static RunJournal create(Path runsDir, Header h, Plan plan) throws IOException {
        return create(runsDir, h, plan, Storage.DISK);
    }

    /** As above, the journal opened through {@code storage}. */
    public static RunJournal create(Path runsDir, Header h, Plan plan, Storage storage) throws IOException {
        Path dir = runsDir.resolve(h.runId());
        Path at = dir;
        FileChannel ch;
        try {
            PrivateFiles.createDirectories(dir);
            at = dir.resolve("snapshot-before.json");
            SnapshotJson.write(plan.before(), at);
            at = dir.resolve("journal.jsonl");
            ch = storage.open(at, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw named(at, e);
        }
        RunJournal j = new RunJournal(dir, ch, -1);
        ObjectNode n = LINE.createObjectNode().put("type", "run").put("runId", h.runId()).put("seq", nextSequence(runsDir, dir))
                .put("at", h.startedAt().toString())
                .put("user", h.user()).put("pid", h.pid()).put("connect", h.connect()).put("cluster", h.cluster())
                .put("engine", h.engine()).put("stopLocal", h.stopLocal());
        n.set("goal", h.goal());
        j.write(n);
        j.attempt(plan, "first plan");
        return j;
    }

    /**
     * The run sequence a new run in {@code runsDir} takes: one more than the highest any journal's header holds
     * ({@code own}, the new run's directory, excepted). "Latest" is the highest sequence, not the newest clock
     * reading: a clock set back does not make a new run older. Two processes starting in the same instant
     * may take the same number; the start time, then the id, orders those.
     */
    static long nextSequence(Path runsDir, Path own) throws IOException {
        long max = 0;
        try (Stream<Path> dirs = Files.list(runsDir)) {
            for (Path d : dirs.filter(Files::isDirectory).filter(d -> !d.equals(own)).toList()) {
                Path f = d.resolve("journal.jsonl");
                if (!Files.isRegularFile(f)) {
                    continue;
                }
                try (var in = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                    String first = in.readLine();
                    if (first != null) {
                        max = Math.max(max, LINE.readTree(first).path("seq").asLong(0));
                    }
                } catch (IOException e) {
                    // a header that cannot be read holds no sequence; the listing names it DAMAGED
                }
            }
        }
        return max + 1;
    }

    /** Opens an existing run's journal to continue it (a resume). */
    public static RunJournal reopen(Path dir) throws IOException, FormatException {
        return reopen(dir, Storage.DISK);
    }

    /**
     * As above, through {@code storage}. A torn last line (the process died, or the disk filled, while it was
     * written) is moved aside to {@code journal.jsonl.torn-TIME} and the journal goes on on a fresh line,
     * with an event naming the file ({@link #tornTail}); it is never glued onto.
     */
    public static RunJournal reopen(Path dir, Storage storage) throws IOException, FormatException {
        RunRecord r = read(dir);
        Path file = dir.resolve("journal.jsonl");
        FileChannel ch = storage.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        RunJournal j = new RunJournal(dir, ch, r.attempts() - 1);
        try {
            j.cut = TornTail.repair(ch, file).orElse(null);
            if (j.cut != null) {
                j.event("torn-tail", "the journal's last line was torn: " + j.cut.describe() + "; the journal goes on on a fresh line");
            }
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot repair the torn end of the journal " + file + ": " + TornTail.why(e), e);
        }
        return j;
    }

    /** The torn last line {@link #reopen} moved aside; empty when the journal ended whole. */
    public synchronized java.util.Optional<TornTail.Cut> tornTail() {
        return java.util.Optional.ofNullable(cut);
    }

    public Path dir() {
        return dir;
    }

    public synchronized int attempt() {
        return attempt;
    }

    /** A plan starts running: writes it beside the journal and records the attempt. */
    public synchronized void attempt(Plan plan, String why) throws IOException {
        attempt++;
        PrivateFiles.writeString(dir.resolve("plan-" + attempt + ".json"), PlanJson.write(plan));
        write(LINE.createObjectNode().put("type", "attempt").put("attempt", attempt).put("at", Instant.now().toString())
                .put("pid", ProcessHandle.current().pid()).put("steps", plan.steps().size()).put("why", why));
    }

    /** A step started or ended; synced before this returns. */
    public synchronized void step(Step s, String state, String message) throws IOException {
        ObjectNode n = LINE.createObjectNode().put("type", "step").put("attempt", attempt).put("index", s.index())
                .put("state", state).put("at", Instant.now().toString()).put("kind", s.type().name());
        if (s.partition() != null) {
            n.put("partition", s.partition().value());
        }
        if (s.from() != null) {
            n.put("from", s.from().value()).put("to", s.to().value());
        }
        if (s.server() != null) {
            n.put("server", s.server().value());
        }
        n.put("step", s.describe());
        if (message != null && !message.isEmpty()) {
            n.put("message", message);
        }
        write(n);
    }

    public synchronized void event(String what, String message) throws IOException {
        write(LINE.createObjectNode().put("type", "event").put("attempt", attempt).put("event", what)
                .put("at", Instant.now().toString()).put("message", message));
    }

    /** Records the audit log's head as this run saw it when it started or ended ({@link AuditLog#check}). */
    public synchronized void auditHead(String when, AuditLog.Head head) throws IOException {
        write(LINE.createObjectNode().put("type", "audit-head").put("attempt", attempt).put("when", when)
                .put("at", Instant.now().toString()).put("count", head.count()).put("hash", head.hash()));
    }

    /** The audit heads every run's journal under {@code runsDir} recorded; an unreadable journal is skipped. */
    public static List<AuditLog.Anchor> auditAnchors(Path runsDir) throws IOException {
        List<AuditLog.Anchor> out = new ArrayList<>();
        for (Path f : journalFiles(runsDir)) {
            Path d = f.getParent();
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (!line.contains("\"audit-head\"")) {
                    continue;
                }
                try {
                    JsonNode n = LINE.readTree(line);
                    if ("audit-head".equals(n.path("type").asText())) {
                        out.add(new AuditLog.Anchor(d.getFileName().toString(), n.path("when").asText(),
                                new AuditLog.Head(n.path("count").asLong(), n.path("hash").asText())));
                    }
                } catch (IOException e) {
                    // a torn line: the chain check reports the journal's own damage elsewhere
                }
            }
        }
        return out;
    }

    /** The journal of each run directory under {@code runsDir} that has one, in the directories' name order. */
    private static List<Path> journalFiles(Path runsDir) throws IOException {
        if (!Files.isDirectory(runsDir)) {
            return List.of();
        }
        try (var dirs = Files.list(runsDir)) {
            return dirs.sorted().map(d -> d.resolve("journal.jsonl")).filter(Files::isRegularFile).toList();
        }
    }

    /**
     * What the runs' journals under {@code runsDir} hold that the audit log never got (their {@code audit-gap}
     * events: the log could not be written), one line per run: "run R: 3 record(s) never reached the audit log
     * (first: …)". Unreadable lines count as nothing here.
     */
    public static List<String> auditGaps(Path runsDir) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path f : journalFiles(runsDir)) {
            List<String> gaps = new ArrayList<>();
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (line.contains("\"audit-gap\"")) {
                    try {
                        JsonNode n = LINE.readTree(line);
                        if ("audit-gap".equals(n.path("event").asText())) {
                            gaps.add(n.path("message").asText());
                        }
                    } catch (IOException e) {
                        // a torn line: not a record of anything
                    }
                }
            }
            if (!gaps.isEmpty()) {
                out.add("run " + f.getParent().getFileName() + ": " + gaps.size() + " record(s) never reached the audit log, its journal "
                        + "holds them (first: " + gaps.get(0) + ")");
            }
        }
        return out;
    }

    /** Records engine settings a run changed, with the values to put back when it ends. */
    public synchronized void settingsChanged(Map<String, String> restore) throws IOException {
        ObjectNode n = LINE.createObjectNode().put("type", "event").put("attempt", attempt).put("event", "settings-changed")
                .put("at", Instant.now().toString());
        ObjectNode m = n.putObject("restore");
        restore.forEach(m::put);
        n.put("message", "changed for the run; to restore: " + restore);
        write(n);
    }

    /** Records that the settings were put back. */
    public synchronized void settingsRestored(Map<String, String> restored) throws IOException {
        write(LINE.createObjectNode().put("type", "event").put("attempt", attempt).put("event", "settings-restored")
                .put("at", Instant.now().toString()).put("message", "restored: " + restored));
    }

    /**
     * Settings a run of this journal changed and did not put back (its process was killed): what a resume
     * must restore when it ends. Unreadable lines count as nothing here; {@link #read} reports them.
     */
    public static Map<String, String> unrestoredSettings(Path dir) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(dir.resolve("journal.jsonl"), StandardCharsets.UTF_8)) {
            JsonNode n;
            try {
                n = LINE.readTree(line);
            } catch (IOException e) {
                continue;
            }
            if ("settings-changed".equals(n.path("event").asText())) {
                n.path("restore").fields().forEachRemaining(e -> out.putIfAbsent(e.getKey(), e.getValue().asText()));
            } else if ("settings-restored".equals(n.path("event").asText())) {
                out.clear();
            }
        }
        return out;
    }

    public synchronized void end(String state, String summary) throws IOException {
        write(LINE.createObjectNode().put("type", "end").put("attempt", attempt).put("state", state)
                .put("at", Instant.now().toString()).put("summary", summary));
    }

    /**
     * Appends one line and syncs it. A write that fails is cut back off where that can be done (a full disk
     * leaves no half line to glue the next one onto), and throws naming the file and the cause.
     */
    private void write(ObjectNode n) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((LINE.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8));
        long before = -1;
        try {
            before = channel.size();
            channel.position(before);
            while (b.hasRemaining()) {
                channel.write(b);
            }
            channel.force(false);
        } catch (IOException e) {
            if (before >= 0) {
                try {
                    channel.truncate(before);
                    channel.force(false);
                } catch (IOException | RuntimeException x) {
                    e.addSuppressed(x);
                }
            }
            throw new IOException("cannot write the journal " + dir.resolve("journal.jsonl") + ": " + TornTail.why(e), e);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }

    // ---- reading -------------------------------------------------------------------------------

    /** One step's last recorded state within one attempt. */
    public record StepRecord(int attempt, int index, String kind, String partition, String from, String to, String server,
                             String state, String describe, String message) {
        public boolean succeeded() {
            return state.equals("SUCCEEDED");
        }

        /** Started and never ended: the process stopped while it ran. */
        public boolean unfinished() {
            return state.equals("RUNNING") || state.equals("RETRY_WAIT");
        }
    }

    /** What a journal says about its run. */
    public record RunRecord(Path dir, String runId, Instant startedAt, String user, long pid, String connect, String cluster,
                            String engine, JsonNode goal, boolean stopLocal, int attempts, List<Integer> stepsPerAttempt,
                            List<StepRecord> steps, String endState, String endSummary, Instant lastAt, List<String> events,
                            long seq, Damage damage) {
        /** Whether the journal could not be read to its end: what it holds is only what came before {@link #damage}. */
        public boolean damaged() {
            return damage != null;
        }

        public long succeeded() {
            return steps.stream().filter(StepRecord::succeeded).count();
        }

        public long failed() {
            return steps.stream().filter(s -> s.state().equals("FAILED")).count();
        }

        public List<StepRecord> unfinished() {
            return steps.stream().filter(StepRecord::unfinished).toList();
        }

        public boolean ended() {
            return endState != null;
        }

        /** "remove ts-3, ts-4", "rebalance (at most 10 moves)", "scale out onto ts-7". */
        public String goalSummary() {
            if (goal == null || goal.isMissingNode() || goal.isNull()) {
                return "?";
            }
            List<String> ids = new ArrayList<>();
            goal.path("servers").forEach(x -> ids.add(x.asText()));
            return switch (goal.path("type").asText()) {
                case "REMOVE_SERVERS" -> "remove " + String.join(", ", ids);
                case "REBALANCE" -> "rebalance" + (goal.has("maxMoves") ? " (at most " + goal.get("maxMoves").asInt() + " moves)" : "");
                case "SCALE_OUT" -> "scale out onto " + String.join(", ", ids);
                case "RESTORE" -> "restore " + goal.path("label").asText("a saved placement");
                default -> goal.path("type").asText("?");
            };
        }
    }

    /**
     * Where a journal cannot be read: the line (1-based; 0 for the file as a whole) and why, in words.
     * A torn last line (a crash while writing it) is not damage: what came before it stands.
     */
    public record Damage(int line, String reason) {
        public String describe() {
            return (line > 0 ? "line " + line + ": " : "") + reason;
        }
    }

    /** Runs as JSON for scripts: id, state, times, user, cluster, goal, attempts, steps. */
    public static String toJson(List<RunRecord> runs, List<String> states) {
        com.fasterxml.jackson.databind.node.ArrayNode a = SnapshotJson.MAPPER.createArrayNode();
        for (int i = 0; i < runs.size(); i++) {
            RunRecord r = runs.get(i);
            ObjectNode n = a.addObject().put("runId", r.runId()).put("state", states.get(i)).put("startedAt", r.startedAt().toString())
                    .put("lastAt", r.lastAt() == null ? null : r.lastAt().toString()).put("user", r.user()).put("pid", r.pid())
                    .put("connect", r.connect()).put("cluster", r.cluster()).put("engine", r.engine()).put("goalSummary", r.goalSummary())
                    .put("attempts", r.attempts()).put("stepsSucceeded", r.succeeded()).put("stepsFailed", r.failed())
                    .put("stepsUnfinished", r.unfinished().size()).put("journal", r.dir().resolve("journal.jsonl").toString());
            n.set("goal", r.goal());
            if (r.endSummary() != null) {
                n.put("summary", r.endSummary());
            }
            if (r.seq() > 0) {
                n.put("seq", r.seq());
            }
            if (r.damaged()) {
                n.put("damagedLine", r.damage().line()).put("damage", r.damage().reason());
            }
        }
        try {
            return SnapshotJson.MAPPER.writeValueAsString(a);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static RunRecord read(Path dir) throws IOException, FormatException {
        return read(dir, false);
    }

    /**
     * As {@link #read(Path)}, but a journal that cannot be read is not an error: the record holds what came
     * before the first bad line (the header's id, time and goal when it could be read; else the directory's
     * name and the file's time) and names the line and the reason in {@link RunRecord#damage}.
     */
    public static RunRecord readOrDamaged(Path dir) {
        try {
            return read(dir, true);
        } catch (IOException | FormatException e) {
            return damagedRecord(dir, new Damage(0, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), null, 0, List.of());
        }
    }

    private static RunRecord damagedRecord(Path dir, Damage damage, JsonNode header, long pid, List<String> events) {
        Instant at = null;
        if (header != null) {
            try {
                at = Instant.parse(header.path("at").asText());
            } catch (DateTimeParseException e) {
                // the directory's time below
            }
        }
        if (at == null) {
            try {
                at = Files.getLastModifiedTime(Files.exists(dir.resolve("journal.jsonl")) ? dir.resolve("journal.jsonl") : dir).toInstant();
            } catch (IOException e) {
                at = Instant.EPOCH;
            }
        }
        JsonNode h = header == null ? LINE.createObjectNode() : header;
        String id = h.path("runId").asText("");
        return new RunRecord(dir, id.isEmpty() ? dir.getFileName().toString() : id, at, h.path("user").asText("?"), pid,
                h.path("connect").asText(""), h.path("cluster").asText("?"), h.path("engine").asText("?"), h.path("goal"),
                h.path("stopLocal").asBoolean(false), 0, List.of(), List.of(), null, null, at, events, h.path("seq").asLong(0), damage);
    }

    private static RunRecord read(Path dir, boolean lenient) throws IOException, FormatException {
        Path file = dir.resolve("journal.jsonl");
        if (lenient && !Files.exists(file)) {
            return damagedRecord(dir, new Damage(0, "journal.jsonl is missing"), null, -1, List.of());
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        Damage damage = null;
        JsonNode header = null;
        int attempts = 0;
        List<Integer> perAttempt = new ArrayList<>();
        Map<String, StepRecord> steps = new LinkedHashMap<>();
        List<String> events = new ArrayList<>();
        String endState = null;
        String endSummary = null;
        Instant last = null;
        long pid = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = LINE.readTree(line);
            } catch (IOException e) {
                if (i == lines.size() - 1) {
                    break; // cut short by a crash while writing: everything before it stands
                }
                damage = new Damage(i + 1, "not JSON: " + oneLine(e));
                if (lenient) {
                    break;
                }
                throw new FormatException(file + " line " + damage.line() + " is " + damage.reason());
            }
            if (n.hasNonNull("at")) {
                try {
                    last = Instant.parse(n.get("at").asText());
                } catch (DateTimeParseException e) {
                    damage = new Damage(i + 1, "'at' is not a time: " + n.get("at").asText());
                    if (lenient) {
                        break;
                    }
                    throw new FormatException(file + " line " + damage.line() + ": " + damage.reason());
                }
            }
            switch (n.path("type").asText()) {
                case "run" -> {
                    header = n;
                    pid = n.path("pid").asLong();
                }
                case "attempt" -> {
                    attempts++;
                    pid = n.path("pid").asLong(pid);
                    perAttempt.add(n.path("steps").asInt());
                    endState = null; // a resume reopens an ended-by-failure run
                }
                case "step" -> {
                    StepRecord r = new StepRecord(n.path("attempt").asInt(), n.path("index").asInt(), n.path("kind").asText(),
                            text(n, "partition"), text(n, "from"), text(n, "to"), text(n, "server"), n.path("state").asText(),
                            n.path("step").asText(), n.path("message").asText(""));
                    steps.put(r.attempt() + "/" + r.index(), r);
                }
                case "event" -> events.add(n.path("event").asText() + ": " + n.path("message").asText());
                case "end" -> {
                    endState = n.path("state").asText();
                    endSummary = n.path("summary").asText();
                }
                default -> {
                }
            }
        }
        if (header == null || !header.hasNonNull("at") || !header.hasNonNull("goal")) {
            Damage none = damage != null ? damage : new Damage(1, header == null ? "no run header" : "the run header has no time or goal");
            if (lenient) {
                return damagedRecord(dir, none, header, pid, events);
            }
            throw new FormatException(file + " has no run header" + (damage == null ? "" : " before " + damage.describe()));
        }
        return new RunRecord(dir, header.path("runId").asText(), Instant.parse(header.path("at").asText()),
                header.path("user").asText(), pid, header.path("connect").asText(),
                header.path("cluster").asText(), header.path("engine").asText(), header.get("goal"),
                header.path("stopLocal").asBoolean(false), attempts, perAttempt, List.copyOf(steps.values()), endState,
                endSummary, last, events, header.path("seq").asLong(0), damage);
    }

    /** A Jackson message in one line, without its "at [Source: ...]" tail. */
    private static String oneLine(IOException e) {
        String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.replaceAll("\\s*\\R\\s*", " ");
    }

    private static String text(JsonNode n, String field) {
        return n.hasNonNull(field) ? n.get(field).asText() : null;
    }

    /**
     * Every run under {@code runsDir}, newest first: by run sequence, runs from before sequences (0) after all
     * others by start time. A journal that cannot be read, or a run directory without one, is listed
     * {@link RunRecord#damaged damaged} (and named in {@code problems}), never skipped.
     */
    public static List<RunRecord> list(Path runsDir, List<String> problems) throws IOException {
        List<RunRecord> out = new ArrayList<>();
        if (!Files.isDirectory(runsDir)) {
            return out;
        }
        try (Stream<Path> dirs = Files.list(runsDir)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                if (startingOnly(d)) {
                    continue; // a run being started (its lock taken, its journal not yet written): not a run yet
                }
                RunRecord r = readOrDamaged(d);
                if (r.damaged()) {
                    problems.add(d.getFileName() + ": journal " + r.damage().describe());
                }
                out.add(r);
            }
        }
        out.sort(NEWEST_FIRST);
        return out;
    }

    /** Whether {@code dir} holds a run's lock file and nothing else: a run that is being started. */
    private static boolean startingOnly(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(f -> f.getFileName().toString()).toList();
            return names.equals(List.of("run.lock"));
        }
    }

    /** Highest run sequence first; then (runs from before sequences, and ties) the latest start, then the id. */
    public static final Comparator<RunRecord> NEWEST_FIRST = Comparator.comparingLong(RunRecord::seq)
            .thenComparing(RunRecord::startedAt).thenComparing(RunRecord::runId).reversed();

    /** The snapshot the first plan was made from. */
    public static ClusterSnapshot snapshotBefore(Path dir) throws IOException, FormatException {
        return SnapshotJson.read(dir.resolve("snapshot-before.json"));
    }

    /** {@code e}, as one line naming {@code file} and the cause (a full disk's bare "No space left on device" names nothing). */
    static IOException named(Path file, IOException e) {
        String m = e.getMessage();
        if (m != null && m.contains(file.toString()) && !(e instanceof java.nio.file.FileSystemException)) {
            return e;
        }
        return new IOException("cannot write " + file + ": " + TornTail.why(e), e);
    }
}
