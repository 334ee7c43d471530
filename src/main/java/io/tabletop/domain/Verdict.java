package io.tabletop.domain;

/** Outcome of one check: PASS, WARN (run allowed, reviewer should read it) or BLOCK (nothing runs). */
public enum Verdict {
    PASS, WARN, BLOCK;

    public Verdict worst(Verdict other) {
        return other.ordinal() > ordinal() ? other : this;
    }
}
