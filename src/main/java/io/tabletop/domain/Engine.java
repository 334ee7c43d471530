package io.tabletop.domain;

/** The storage engines Tabletop speaks to. */
public enum Engine {
    SANDBOX("sandbox"), KUDU("kudu"), COUCHBASE("couchbase"), OPENMLDB("openmldb");

    private final String wireName;

    Engine(String wireName) {
        this.wireName = wireName;
    }

    /** The lower-case name used in snapshot JSON. */
    public String wireName() {
        return wireName;
    }

    public static Engine fromWire(String name) {
        for (Engine e : values()) {
            if (e.wireName.equalsIgnoreCase(name)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + name + "' (expected sandbox, kudu, couchbase or openmldb)");
    }
}
