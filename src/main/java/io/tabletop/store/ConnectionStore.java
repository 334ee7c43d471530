package io.tabletop.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Saved connections: a name and a connection spec each, in {@code connections.json} in the user's config
 * directory. Specs hold addresses only, never secrets. Written to a temporary file and moved into place,
 * so a crash never leaves half a file.
 */
public final class ConnectionStore {
    /** One saved connection. */
    public record Saved(String name, String spec) {
    }

    private final Path file;

    public ConnectionStore(Path file) {
        this.file = file;
    }

    /** {@code $XDG_CONFIG_HOME/tabletop/connections.json}, else {@code ~/.config/tabletop/connections.json}. */
    public static Path defaultFile() {
        String prop = System.getProperty("tabletop.home");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop, "config", "connections.json");
        }
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return base.resolve("tabletop").resolve("connections.json");
    }

    /**
     * The members each spec's cluster was last seen with (addresses learned from the cluster itself), by
     * spec, from {@code members.json} beside the saved connections; empty when none were remembered or the
     * file cannot be read (a spec alone still reaches the cluster while the node it names is a member).
     */
    public List<String> members(String spec) {
        Path f = file.resolveSibling("members.json");
        if (!Files.isRegularFile(f)) {
            return List.of();
        }
        try {
            JsonNode list = SnapshotJson.MAPPER.readTree(JsonText.read(f, "remembered members")).path(spec);
            List<String> out = new ArrayList<>();
            list.forEach(n -> out.add(n.asText()));
            return out;
        } catch (IOException | FormatException e) {
            return List.of();
        }
    }

    /** Remembers the members a spec's cluster was seen with: addresses only (the spec itself holds no secret either). */
    public synchronized void rememberMembers(String spec, List<String> members) throws IOException {
        Path f = file.resolveSibling("members.json");
        ObjectNode root;
        try {
            JsonNode old = Files.isRegularFile(f) ? SnapshotJson.MAPPER.readTree(JsonText.read(f, "remembered members")) : null;
            root = old instanceof ObjectNode o ? o : SnapshotJson.MAPPER.createObjectNode();
        } catch (IOException | FormatException e) {
            root = SnapshotJson.MAPPER.createObjectNode();
        }
        ArrayNode list = root.putArray(spec);
        members.forEach(list::add);
        PrivateFiles.createDirectories(f.getParent());
        Path tmp = f.resolveSibling("members.json.tmp");
        PrivateFiles.writeString(tmp, SnapshotJson.MAPPER.writeValueAsString(root) + "\n");
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public List<Saved> load() throws FormatException, IOException {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        JsonNode root;
        try {
            root = SnapshotJson.MAPPER.readTree(JsonText.read(file, "saved connections"));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new FormatException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        List<Saved> out = new ArrayList<>();
        for (JsonNode n : SnapshotJson.array(root, "connections")) {
            out.add(new Saved(SnapshotJson.required(n, "name", "connection"), SnapshotJson.required(n, "spec", "connection")));
        }
        return out;
    }

    public void save(List<Saved> connections) throws IOException {
        ObjectNode root = SnapshotJson.MAPPER.createObjectNode();
        ArrayNode list = root.putArray("connections");
        for (Saved s : connections) {
            list.addObject().put("name", s.name()).put("spec", s.spec());
        }
        PrivateFiles.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        PrivateFiles.writeString(tmp, SnapshotJson.MAPPER.writeValueAsString(root) + "\n");
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
