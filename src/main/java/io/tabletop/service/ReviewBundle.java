package io.tabletop.service;

import io.tabletop.store.PrivateFiles;
import io.tabletop.domain.CheckResult;
import io.tabletop.domain.ClusterSnapshot;
import io.tabletop.domain.ServerId;
import io.tabletop.domain.ServerLoad;
import io.tabletop.domain.Step;
import io.tabletop.domain.Units;
import io.tabletop.executor.RunResult;
import io.tabletop.executor.StepState;
import io.tabletop.planner.Phase;
import io.tabletop.planner.BucketForecast;
import io.tabletop.planner.Plan;
import io.tabletop.store.PlanJson;
import io.tabletop.store.SnapshotJson;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The change-review bundle a DBA attaches to a change request: {@code review.md} (cluster, time, operator,
 * servers, pre-checks, plan summary, every step, before/after distribution; after a run also its outcome,
 * timings, post-checks and audit records), {@code review.html} (the same, with any PNG images of the
 * bundle embedded, to mail or attach), {@code plan.json}, {@code snapshot-before.json} and
 * {@code snapshot-after.json} (predicted, or read after the run). The console adds PNG images rendered
 * from its views before the HTML is written.
 */
public final class ReviewBundle {
    private ReviewBundle() {
    }

    /** What happened when the plan ran; absent for a review made from the preview. */
    public record RunPart(String runId, RunResult result, List<CheckResult> postChecks, ClusterSnapshot after, List<String> auditRecords) {
    }

    /** What goes into a review. */
    public record Review(Plan plan, List<CheckResult> preChecks, String operator, Instant at, RunPart run) {
    }

    /** Writes the bundle into {@code dir} (created); returns the files written. */
    public static List<Path> write(Path dir, Review r) throws IOException {
        PrivateFiles.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        Path plan = dir.resolve("plan.json");
        PrivateFiles.writeString(plan, PlanJson.write(r.plan()));
        out.add(plan);
        Path before = dir.resolve("snapshot-before.json");
        SnapshotJson.write(r.plan().before(), before);
        out.add(before);
        Path after = dir.resolve("snapshot-after.json");
        SnapshotJson.write(r.run() != null && r.run().after() != null ? r.run().after() : r.plan().after(), after);
        out.add(after);
        String md = markdown(r);
        Path mdFile = dir.resolve("review.md");
        PrivateFiles.writeString(mdFile, md);
        out.add(mdFile);
        Path html = dir.resolve("review.html");
        PrivateFiles.writeString(html, html(r, images(dir)));
        out.add(html);
        return out;
    }

    /** The PNG images already in the bundle's directory, by name. */
    private static List<Path> images(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".png")).sorted().toList();
        }
    }

    static String title(Plan plan) {
        List<ServerId> removed = plan.removedServers();
        return (removed.isEmpty() ? plan.phases().stream().map(Phase::title).findFirst().orElse("Change")
                : "Remove " + String.join(", ", removed.stream().map(ServerId::value).toList()))
                + " from " + plan.before().cluster();
    }

    static String markdown(Review r) {
        Plan p = r.plan();
        StringBuilder b = new StringBuilder();
        b.append("# Change review: ").append(title(p)).append("\n\n");
        b.append("- Cluster: ").append(p.before().cluster()).append(" (").append(p.before().engine().wireName()).append(")")
                .append(p.before().takenAt() == null ? "" : ", read at " + p.before().takenAt()).append('\n');
        b.append("- Prepared: ").append(r.at()).append(" by ").append(r.operator()).append(" with Tabletop ").append(io.tabletop.store.BuildInfo.version()).append("\n");
        if (!p.removedServers().isEmpty()) {
            Map<ServerId, ServerLoad> loads = p.loadsBefore();
            b.append("- Servers to remove: ");
            List<String> names = new ArrayList<>();
            for (ServerId id : p.removedServers()) {
                ServerLoad l = loads.get(id);
                names.add(id + " (" + p.before().server(id).map(s -> s.address()).orElse("?") + ", " + l.replicas() + " replicas, "
                        + l.leaders() + " leaders, " + Units.bytes(l.bytes()) + ")");
            }
            b.append(String.join("; ", names)).append('\n');
        }
        b.append("\n## Pre-checks\n\n| Verdict | Check | Detail |\n| --- | --- | --- |\n");
        for (CheckResult c : r.preChecks()) {
            b.append("| ").append(c.verdict()).append(" | ").append(cell(c.name())).append(" | ").append(cell(c.message())).append(" |\n");
        }
        Plan.Summary s = p.summary();
        b.append("\n## Plan\n\n");
        b.append(String.format(Locale.ROOT, "- %d replica moves, %d leader transfers, %s to copy%n", s.replicaMoves(), s.leaderTransfers(),
                Units.bytes(s.bytesToMove())));
        b.append(String.format(Locale.ROOT, "- %d steps in %d phase(s); at most %d moves per server at a time%n", p.steps().size(),
                p.phases().size(), s.maxMovesPerServer()));
        b.append("- Estimated duration: ").append(Units.duration(s.estimatedSeconds())).append('\n');
        b.append("\n## Steps\n\n| # | Phase | Step | Data | Reason |\n| --- | --- | --- | --- | --- |\n");
        for (Step st : p.steps()) {
            b.append("| ").append(st.index() + 1).append(" | ").append(st.phase() + 1).append(" | ").append(cell(st.describe()))
                    .append(" | ").append(st.bytes() > 0 ? Units.bytes(st.bytes()) : "").append(" | ").append(cell(st.reason())).append(" |\n");
        }
        b.append("\n## Distribution before → after\n\n| Server | Replicas | Leaders | Data |\n| --- | --- | --- | --- |\n");
        Map<ServerId, ServerLoad> before = p.loadsBefore();
        Map<ServerId, ServerLoad> after = (r.run() != null && r.run().after() != null ? r.run().after() : p.after()).loads();
        Set<ServerId> ids = new LinkedHashSet<>(before.keySet());
        ids.addAll(after.keySet());
        for (ServerId id : ids) {
            ServerLoad x = before.get(id);
            ServerLoad y = after.get(id);
            b.append("| ").append(id).append(" | ").append(x == null ? "—" : x.replicas()).append(" → ").append(y == null ? "removed" : y.replicas())
                    .append(" | ").append(x == null ? "—" : x.leaders()).append(" → ").append(y == null ? "removed" : y.leaders())
                    .append(" | ").append(x == null ? "—" : Units.bytes(x.bytes())).append(" → ").append(y == null ? "removed" : Units.bytes(y.bytes()))
                    .append(" |\n");
        }
        for (BucketForecast f : p.forecast()) {
            b.append("\n## Forecast: bucket ").append(cell(f.name())).append("\n\n").append(f.vbuckets()).append(" vBuckets; ")
                    .append(f.replicasKept()).append(" of ").append(f.replicasWanted()).append(" replica(s) kept; ").append(f.copiesToBuild())
                    .append(" copies to build, ").append(f.takeovers()).append(" takeovers. The engine chooses the moves: this is Tabletop's "
                            + "prediction by its rules.\n\n| Node | Active vBuckets | Replica vBuckets | Active items | Replica items |\n"
                            + "| --- | --- | --- | --- | --- |\n");
            for (BucketForecast.Node n : f.nodes()) {
                String gone = "leaves";
                b.append("| ").append(cell(n.server().value())).append(" | ").append(n.activeBefore()).append(" → ")
                        .append(n.leaves() ? gone : n.activeAfter()).append(" | ").append(n.replicasBefore()).append(" → ")
                        .append(n.leaves() ? gone : n.replicasAfter()).append(" | ").append(n.activeItemsBefore()).append(" → ")
                        .append(n.leaves() ? gone : n.activeItemsAfter()).append(" | ").append(n.replicaItemsBefore()).append(" → ")
                        .append(n.leaves() ? gone : n.replicaItemsAfter()).append(" |\n");
            }
        }
        if (r.run() != null) {
            RunPart run = r.run();
            RunResult res = run.result();
            b.append("\n## Run ").append(run.runId()).append("\n\n");
            b.append("- Outcome: ").append(res.state()).append(" in ").append(Units.duration(res.seconds()))
                    .append(" (estimated ").append(Units.duration(s.estimatedSeconds())).append(")\n");
            b.append(String.format(Locale.ROOT, "- Steps: %d succeeded, %d failed, %d cancelled, %d not run%n", res.count(StepState.SUCCEEDED),
                    res.count(StepState.FAILED), res.count(StepState.CANCELLED), res.count(StepState.SKIPPED)));
            for (RunResult.StepOutcome f : res.failures()) {
                b.append("- Failed: step ").append(f.step().index() + 1).append(' ').append(cell(f.step().describe())).append(": ")
                        .append(cell(f.message())).append('\n');
            }
            b.append("\n### Post-checks\n\n| Verdict | Check | Detail |\n| --- | --- | --- |\n");
            for (CheckResult c : run.postChecks()) {
                b.append("| ").append(c.verdict()).append(" | ").append(cell(c.name())).append(" | ").append(cell(c.message())).append(" |\n");
            }
            b.append("\n### Audit records\n\n```\n");
            run.auditRecords().forEach(a -> b.append(a).append('\n'));
            b.append("```\n");
        }
        b.append("\nFiles: plan.json (the plan), snapshot-before.json, snapshot-after.json ")
                .append(r.run() != null ? "(read after the run)" : "(predicted)").append(".\n");
        return b.toString();
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }

    /** The review as one self-contained HTML page: its tables, and the bundle's images embedded. */
    static String html(Review r, List<Path> images) throws IOException {
        StringBuilder b = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(esc("Change review: " + title(r.plan()))).append("</title><style>")
                .append("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}")
                .append("td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#eef}")
                .append("img{max-width:100%;border:1px solid #ddd;margin:.5em 0}pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto}")
                .append("</style></head><body>\n");
        boolean inTable = false;
        boolean inPre = false;
        boolean header = false;
        for (String line : markdown(r).split("\n")) {
            if (line.startsWith("```")) {
                b.append(inPre ? "</pre>\n" : "<pre>");
                inPre = !inPre;
                continue;
            }
            if (inPre) {
                b.append(esc(line)).append('\n');
                continue;
            }
            if (line.startsWith("|")) {
                if (line.startsWith("| ---")) {
                    continue;
                }
                if (!inTable) {
                    b.append("<table>");
                    inTable = true;
                    header = true;
                }
                String tag = header ? "th" : "td";
                b.append("<tr>");
                for (String c : line.substring(1, line.length() - 1).split("(?<!\\\\)\\|")) {
                    b.append('<').append(tag).append('>').append(esc(c.strip().replace("\\|", "|"))).append("</").append(tag).append('>');
                }
                b.append("</tr>\n");
                header = false;
                continue;
            }
            if (inTable) {
                b.append("</table>\n");
                inTable = false;
            }
            if (line.startsWith("### ")) {
                b.append("<h3>").append(esc(line.substring(4))).append("</h3>\n");
            } else if (line.startsWith("## ")) {
                b.append("<h2>").append(esc(line.substring(3))).append("</h2>\n");
            } else if (line.startsWith("# ")) {
                b.append("<h1>").append(esc(line.substring(2))).append("</h1>\n");
            } else if (line.startsWith("- ")) {
                b.append("<p>• ").append(esc(line.substring(2))).append("</p>\n");
            } else if (!line.isBlank()) {
                b.append("<p>").append(esc(line)).append("</p>\n");
            }
        }
        if (inTable) {
            b.append("</table>\n");
        }
        for (Path img : images) {
            b.append("<h3>").append(esc(img.getFileName().toString())).append("</h3>\n<img alt=\"").append(esc(img.getFileName().toString()))
                    .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(Files.readAllBytes(img))).append("\">\n");
        }
        return b.append("</body></html>\n").toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
