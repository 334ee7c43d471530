package io.tabletop.service;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A benchmark ({@code tabletop bench NAME}): prints a Markdown table for the README to {@code out} and its
 * progress to {@code err}. Not a test. The application's root registers them.
 */
public interface Benchmark {
    /** The subcommand: {@code planner}. */
    String name();

    String description();

    /** Its options, each {@code --NAME VALUE}. */
    List<Option> options();

    void run(Map<String, String> options, PrintWriter out, PrintWriter err) throws Exception;

    /** One option: name without dashes, default value, one line of help. */
    record Option(String name, String defaultValue, String description) {
    }

    /** An option's value as a whole number. */
    static int intOption(Map<String, String> options, String name) {
        try {
            return Integer.parseInt(options.get(name).strip());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--" + name + " takes a whole number, was '" + options.get(name) + "'");
        }
    }

    /** An option's value as comma-separated whole numbers. */
    static int[] intsOption(Map<String, String> options, String name) {
        try {
            return Arrays.stream(options.get(name).split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--" + name + " takes whole numbers separated by commas, was '" + options.get(name) + "'");
        }
    }
}
