package io.tabletop.service;

import io.tabletop.store.ProcessLock;
import io.tabletop.store.RunJournal;
import io.tabletop.store.RunJournal.RunRecord;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The recorded runs: read from their journals, with each one's state (ended, running in this or another
 * process, or interrupted), found by id or prefix. Thread-safe.
 */
final class RunCatalog {
    /** The state of a run whose journal cannot be read ({@link RunRecord#damage} says where and why). */
    static final String DAMAGED = "DAMAGED";
    private static final Logger LOG = Logger.getLogger(RunCatalog.class.getName());
    private final Path runsDir;
    /** The runs this process is running now. */
    private final Set<String> active;

    RunCatalog(Path runsDir, Set<String> active) {
        this.runsDir = runsDir;
        this.active = active;
    }

    List<Runs.RunInfo> list(List<String> problems) throws IOException {
        List<Runs.RunInfo> out = new ArrayList<>();
        for (RunRecord r : RunJournal.list(runsDir, problems)) {
            out.add(new Runs.RunInfo(r, r.damaged() ? DAMAGED : state(r)));
        }
        return out;
    }

    /**
     * SUCCEEDED/FAILED/CANCELLED from the journal's end; RUNNING while a live process holds the run's lock
     * ({@link io.tabletop.store.ProcessLock}: whatever its executable is called; the operating system lets go
     * of it when the process ends); else INTERRUPTED.
     */
    String state(RunRecord r) {
        if (r.ended()) {
            return r.endState();
        }
        if (active.contains(r.runId())) {
            return "RUNNING";
        }
        try {
            return ProcessLock.holder(r.dir().resolve(RunLocks.RUN_LOCK)).isPresent() ? "RUNNING" : "INTERRUPTED";
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot look at the lock of run " + r.runId(), e);
            return "INTERRUPTED";
        }
    }

    /**
     * A run by id (or a unique prefix of it), or the newest with {@code "latest"}. A damaged run is never
     * passed over for an older one, nor returned: it is refused with its journal's line and the reason.
     */
    Runs.RunInfo find(String idOrLatest) throws IOException, Runs.NoSuchRunException {
        List<String> problems = new ArrayList<>();
        List<Runs.RunInfo> all = list(problems);
        if (idOrLatest.equals("latest")) {
            Runs.RunInfo newest = all.stream().findFirst().orElseThrow(() -> new Runs.NoSuchRunException("no runs recorded in " + runsDir));
            if (newest.record().damaged()) {
                throw new Runs.NoSuchRunException("the newest run, " + newest.record().runId() + ", is DAMAGED: "
                        + damage(newest.record()) + "; name the run to use by its id (tabletop runs lists them)");
            }
            for (Runs.RunInfo r : all) {
                RunRecord d = r.record();
                if (d.damaged() && d.seq() <= 0 && !started(d).isBefore(newest.record().startedAt())) {
                    throw new Runs.NoSuchRunException("run " + d.runId() + " may be newer than " + newest.record().runId()
                            + " (it started at or after it, and its run sequence cannot be read) and is DAMAGED: " + damage(d)
                            + "; name the run to use by its id (tabletop runs lists them)");
                }
            }
            return newest;
        }
        List<Runs.RunInfo> hits = all.stream().filter(r -> r.record().runId().startsWith(idOrLatest)
                || r.record().dir().getFileName().toString().startsWith(idOrLatest)).toList();
        if (hits.size() != 1) {
            throw new Runs.NoSuchRunException(hits.isEmpty() ? "no run " + idOrLatest + " in " + runsDir
                    : idOrLatest + " matches " + hits.size() + " runs; give more of the id");
        }
        if (hits.get(0).record().damaged()) {
            throw new Runs.NoSuchRunException("run " + hits.get(0).record().runId() + " is DAMAGED: " + damage(hits.get(0).record()));
        }
        return hits.get(0);
    }

    /** One problem per run the audit log has records of ({@code recordsPerRun}) whose journal is not in the runs directory. */
    List<String> missingJournals(java.util.Map<String, Integer> recordsPerRun) {
        List<String> out = new ArrayList<>();
        recordsPerRun.forEach((run, n) -> {
            java.nio.file.Path journal = runsDir.resolve(run).resolve("journal.jsonl");
            if (!java.nio.file.Files.isRegularFile(journal)) {
                out.add("run " + run + " has " + n + " audit record(s) but no journal (" + journal + " is missing)");
            }
        });
        return out;
    }

    /**
     * When a damaged run without a readable sequence started, as late as can be told: the later of its record's
     * time (the header's, else the journal's or the directory's modification time) and the time in its
     * directory's name ({@code YYYYMMDD-HHMMSS-xxxx}, UTC).
     */
    static java.time.Instant started(RunRecord r) {
        java.time.Instant at = r.startedAt() == null ? java.time.Instant.EPOCH : r.startedAt();
        String name = r.dir().getFileName().toString();
        if (name.length() >= 15) {
            try {
                java.time.Instant named = java.time.LocalDateTime.parse(name.substring(0, 15),
                        java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", java.util.Locale.ROOT))
                        .toInstant(java.time.ZoneOffset.UTC);
                at = named.isAfter(at) ? named : at;
            } catch (java.time.format.DateTimeParseException e) {
                // not a run id: the record's time stands
            }
        }
        try {
            for (Path p : List.of(r.dir(), r.dir().resolve("journal.jsonl"))) {
                if (java.nio.file.Files.exists(p)) {
                    java.time.Instant m = java.nio.file.Files.getLastModifiedTime(p).toInstant();
                    at = m.isAfter(at) ? m : at;
                }
            }
        } catch (IOException e) {
            // the times above stand
        }
        return at;
    }

    /** "journal line 3: not JSON: ... (runs/ID/journal.jsonl)". */
    static String damage(RunRecord r) {
        return "journal " + r.damage().describe() + " (" + r.dir().resolve("journal.jsonl") + ")";
    }
}
