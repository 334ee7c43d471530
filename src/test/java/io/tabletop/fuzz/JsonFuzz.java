package io.tabletop.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A seeded generator of hostile or broken variants of an engine's JSON answer, for the readers' fuzz tests:
 * values of the wrong type, missing fields, huge strings and numbers, oversized arrays, deep nesting, and
 * at the text level truncation, flipped bytes and a nesting bomb. The same seed gives the same inputs.
 */
public final class JsonFuzz {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private final Random rnd;

    public JsonFuzz(long seed) {
        this.rnd = new Random(seed);
    }

    /** One variant of {@code seed}'s text: most often a structural mutation, sometimes a textual one. */
    public String variant(String seedText) throws Exception {
        int kind = rnd.nextInt(10);
        if (kind < 6) {
            JsonNode tree = JSON.readTree(seedText).deepCopy();
            int mutations = 1 + rnd.nextInt(3);
            for (int i = 0; i < mutations; i++) {
                tree = mutate(tree);
            }
            return JSON.writeValueAsString(tree);
        }
        return switch (kind) {
            case 6 -> seedText.substring(0, rnd.nextInt(Math.max(1, seedText.length())));
            case 7 -> flip(seedText);
            case 8 -> "[".repeat(2000 + rnd.nextInt(5000)) + "]".repeat(10);
            default -> switch (rnd.nextInt(4)) {
                case 0 -> "";
                case 1 -> "null";
                case 2 -> "\"" + "x".repeat(1 << 20) + "\"";
                default -> "42";
            };
        };
    }

    private String flip(String s) {
        char[] c = s.toCharArray();
        for (int i = 0, n = 1 + rnd.nextInt(8); i < n && c.length > 0; i++) {
            c[rnd.nextInt(c.length)] = (char) (32 + rnd.nextInt(95));
        }
        return new String(c);
    }

    private JsonNode mutate(JsonNode root) {
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        if (containers.isEmpty() || rnd.nextInt(20) == 0) {
            return strange();
        }
        JsonNode target = containers.get(rnd.nextInt(containers.size()));
        if (target instanceof ObjectNode o && o.size() > 0) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            String field = names.get(rnd.nextInt(names.size()));
            switch (rnd.nextInt(4)) {
                case 0 -> o.remove(field);
                case 1 -> o.set(field, strange());
                case 2 -> o.set(field, nest(o.get(field), 50 + rnd.nextInt(400)));
                default -> o.set(field, repeat(o.get(field)));
            }
        } else if (target instanceof ArrayNode a && a.size() > 0) {
            int i = rnd.nextInt(a.size());
            switch (rnd.nextInt(4)) {
                case 0 -> a.remove(i);
                case 1 -> a.set(i, strange());
                case 2 -> a.add(a.get(i).deepCopy());
                default -> {
                    for (int k = 0; k < 2000; k++) {
                        a.add(a.get(i).deepCopy());
                    }
                }
            }
        }
        return root;
    }

    private void collect(JsonNode n, List<JsonNode> out) {
        if (n.isContainerNode()) {
            out.add(n);
            Iterator<JsonNode> it = n.elements();
            while (it.hasNext()) {
                collect(it.next(), out);
            }
        }
    }

    private JsonNode strange() {
        return switch (rnd.nextInt(12)) {
            case 0 -> F.nullNode();
            case 1 -> F.numberNode(-1);
            case 2 -> F.numberNode(Long.MAX_VALUE);
            case 3 -> F.numberNode(1e308);
            case 4 -> F.textNode("");
            case 5 -> F.textNode("x".repeat(200_000));
            case 6 -> F.textNode("../../etc/passwd\u0000\u202e");
            case 7 -> F.booleanNode(rnd.nextBoolean());
            case 8 -> F.arrayNode();
            case 9 -> F.objectNode();
            case 10 -> F.arrayNode().add(F.objectNode().put("uuid", "")).add(F.nullNode());
            default -> F.objectNode().set("nested", F.objectNode().put("k", rnd.nextInt()));
        };
    }

    private JsonNode nest(JsonNode n, int depth) {
        JsonNode out = n == null ? F.nullNode() : n;
        for (int i = 0; i < depth; i++) {
            out = rnd.nextBoolean() ? F.arrayNode().add(out) : F.objectNode().set("v", out);
        }
        return out;
    }

    private JsonNode repeat(JsonNode n) {
        ArrayNode a = F.arrayNode();
        for (int i = 0; i < 3000; i++) {
            a.add(n == null ? F.nullNode() : n.deepCopy());
        }
        return a;
    }

    /** Convenience: the seed texts by name, each with {@code n} variants, for a reader to be fed. */
    public List<Map.Entry<String, String>> variants(Map<String, String> seeds, int n) throws Exception {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (Map.Entry<String, String> s : seeds.entrySet()) {
                out.add(Map.entry(s.getKey(), variant(s.getValue())));
            }
        }
        return out;
    }
}
