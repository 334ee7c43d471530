package io.tabletop.planner;

/** Thrown inside a planner run when the goal cannot be reached; becomes a BLOCK check. */
final class Refusal extends RuntimeException {
    private final String check;

    Refusal(String check, String message) {
        super(message, null, false, false);
        this.check = check;
    }

    String check() {
        return check;
    }
}
