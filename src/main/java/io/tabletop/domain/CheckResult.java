package io.tabletop.domain;

import java.util.Objects;

/** One pre- or post-check, with the reason a DBA can act on. */
public record CheckResult(String name, Verdict verdict, String message) {
    public CheckResult {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(verdict, "verdict");
        message = message == null ? "" : message;
    }

    public static CheckResult pass(String name, String message) {
        return new CheckResult(name, Verdict.PASS, message);
    }

    public static CheckResult warn(String name, String message) {
        return new CheckResult(name, Verdict.WARN, message);
    }

    public static CheckResult block(String name, String message) {
        return new CheckResult(name, Verdict.BLOCK, message);
    }
}
