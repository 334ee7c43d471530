package io.tabletop.connector;

import io.tabletop.domain.Engine;

/**
 * The one exception type of the port. Its message reads as one line for people:
 * "kudu: move replica p-7 ts-2 → ts-4 failed: Illegal state: replica ts-4 is already present".
 */
public class ConnectorException extends Exception {
    private final Engine engine;
    private final String operation;
    private final String reason;
    private final boolean transientFailure;

    public ConnectorException(Engine engine, String operation, String reason, boolean transientFailure, Throwable cause) {
        super(engine.wireName() + ": " + operation + " failed: " + reason, cause);
        this.engine = engine;
        this.operation = operation;
        this.reason = reason;
        this.transientFailure = transientFailure;
    }

    public ConnectorException(Engine engine, String operation, String reason) {
        this(engine, operation, reason, false, null);
    }

    public Engine engine() {
        return engine;
    }

    public String operation() {
        return operation;
    }

    /** The cause in the engine's words, without the engine and operation. */
    public String reason() {
        return reason;
    }

    /** Worth retrying: a timeout, a lost connection, an injected fault; not a refusal. */
    public boolean isTransient() {
        return transientFailure;
    }
}
