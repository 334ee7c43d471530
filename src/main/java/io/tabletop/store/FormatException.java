package io.tabletop.store;

/** A file that is not what it should be; the message says what and where, in one line. */
public final class FormatException extends Exception {
    public FormatException(String message) {
        super(message);
    }
}
