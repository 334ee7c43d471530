package io.tabletop.ui;

import io.tabletop.service.AppPaths;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns any failure into one line for people; the log keeps the detail. */
final class Errors {
    private Errors() {
    }

    static String oneLine(Throwable t) {
        Throwable e = t;
        while ((e instanceof ExecutionException || e instanceof CompletionException)
                && e.getCause() != null) {
            e = e.getCause();
        }
        String m = e.getMessage();
        if (m == null || m.isBlank() || e instanceof NullPointerException || e instanceof ClassCastException) {
            return "unexpected error (" + e.getClass().getSimpleName() + "); details in " + AppPaths.logFile();
        }
        int nl = m.indexOf('\n');
        return nl > 0 ? m.substring(0, nl) : m;
    }
}
