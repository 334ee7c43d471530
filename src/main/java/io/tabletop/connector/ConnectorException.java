package io.tabletop.connector;

import io.tabletop.domain.Engine;

/**
 * The one exception type of the port. Its message reads as one line for people:
 * "kudu: move replica p-7 ts-2 → ts-4 failed: Illegal state: replica ts-4 is already present". Its
 * {@link Kind} says what a caller may do next, so no caller has to read the message to decide.
 *
 * <p>A message never holds a secret: adapters build it from the engine's answer and the operation,
 * never from a credential.
 */
public class ConnectorException extends Exception {
    /** What went wrong, as far as what to do next goes. */
    public enum Kind {
        /** Worth retrying: a timeout, a lost connection, an injected fault. */
        TRANSIENT,
        /** The engine said no (bad request, a rule of the engine, wrong credentials): the same call fails again. */
        REFUSED,
        /** A server the step needs has stopped answering: re-plan around it rather than retry. */
        SERVER_LOST,
        /** The call went out and no answer came back: the step may or may not have happened; look at the cluster. */
        OUTCOME_UNKNOWN,
        /** The step was stopped because the operator cancelled the run; what the engine did so far stays. */
        STOPPED,
        /**
         * The engine refuses the step for now, for a reason that time resolves (Kudu's {@code move_replica}
         * refuses a tablet with a copy on a dead tserver until the master has replaced it): park it and try
         * again once the cause has gone, rather than count attempts.
         */
        NOT_YET,
        /**
         * The cluster is no longer as the step assumed, and the step cannot be done as planned (its destination
         * already holds a copy the engine put there): read the cluster again and plan what is left.
         */
        DRIFT
    }

    private final Engine engine;
    private final String operation;
    private final String reason;
    private final Kind kind;

    public ConnectorException(Engine engine, String operation, String reason, Kind kind, Throwable cause) {
        super(engine.wireName() + ": " + operation + " failed: " + reason, cause);
        this.engine = engine;
        this.operation = operation;
        this.reason = reason;
        this.kind = kind == null ? Kind.REFUSED : kind;
    }

    /** {@code transientFailure}: {@link Kind#TRANSIENT}, else {@link Kind#REFUSED}. */
    public ConnectorException(Engine engine, String operation, String reason, boolean transientFailure, Throwable cause) {
        this(engine, operation, reason, transientFailure ? Kind.TRANSIENT : Kind.REFUSED, cause);
    }

    public ConnectorException(Engine engine, String operation, String reason) {
        this(engine, operation, reason, Kind.REFUSED, null);
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

    public Kind kind() {
        return kind;
    }

    /** Worth retrying as it is. */
    public boolean isTransient() {
        return kind == Kind.TRANSIENT;
    }
}
