package io.tabletop.ui;

import javafx.css.PseudoClass;

/** Style classes and pseudo-classes, declared once; colours live as tokens in tabletop.css. */
public final class Styles {
    public static final String STYLESHEET = "/io/tabletop/ui/tabletop.css";
    public static final String BADGE = "badge";
    public static final String LEADER_CELL = "leader-cell";
    public static final String TITLE = "title";
    public static final String SUBTITLE = "subtitle";
    public static final String MUTED = "muted";
    public static final String SUMMARY = "summary";
    public static final String STEPPER = "stepper";
    public static final String STEPPER_ITEM = "stepper-item";
    public static final String CHECK_ROW = "check-row";
    public static final String ERROR_BANNER = "error-banner";
    public static final String PRIMARY = "primary";
    public static final String DANGER = "danger";

    public static final PseudoClass LIVE = PseudoClass.getPseudoClass("live");
    public static final PseudoClass MAINTENANCE = PseudoClass.getPseudoClass("maintenance");
    public static final PseudoClass DEAD = PseudoClass.getPseudoClass("dead");
    public static final PseudoClass PASS = PseudoClass.getPseudoClass("pass");
    public static final PseudoClass WARN = PseudoClass.getPseudoClass("warn");
    public static final PseudoClass BLOCK = PseudoClass.getPseudoClass("block");
    public static final PseudoClass CURRENT = PseudoClass.getPseudoClass("current");
    public static final PseudoClass DONE = PseudoClass.getPseudoClass("done");

    private Styles() {
    }
}
