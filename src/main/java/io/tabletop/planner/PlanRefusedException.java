package io.tabletop.planner;

import io.tabletop.domain.CheckResult;
import io.tabletop.domain.Verdict;
import java.util.List;
import java.util.stream.Collectors;

/** The goal cannot be reached safely; the checks say why. Nothing has run. */
public final class PlanRefusedException extends Exception {
    private final List<CheckResult> checks;

    public PlanRefusedException(List<CheckResult> checks) {
        super(checks.stream().filter(c -> c.verdict() == Verdict.BLOCK)
                .map(c -> c.name() + ": " + c.message()).collect(Collectors.joining("; ")));
        this.checks = List.copyOf(checks);
    }

    public List<CheckResult> checks() {
        return checks;
    }
}
