package io.tabletop.executor;

/**
 * One line for people about a throwable nobody expected on a run's path: its type and message, never a
 * stack trace (the log keeps that). Pure; thread-safe.
 */
final class Failures {
    /** Longest line kept; the rest of a long message is cut with an ellipsis. */
    static final int MAX = 300;

    private Failures() {
    }

    /** "unexpected error: IllegalStateException: boom", on one line. */
    static String unexpected(Throwable t) {
        return "unexpected error: " + oneLine(t);
    }

    /** The throwable's simple type name and its message, on one line of at most {@link #MAX} characters. */
    static String oneLine(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        String m = t.getMessage();
        String type = t.getClass().getSimpleName().isEmpty() ? t.getClass().getName() : t.getClass().getSimpleName();
        String line = type + (m == null || m.isBlank() ? "" : ": " + m.strip());
        line = line.replaceAll("\\s*\\R\\s*", " ");
        return line.length() <= MAX ? line : line.substring(0, MAX - 1) + "…";
    }
}
