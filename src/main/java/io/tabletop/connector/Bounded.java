package io.tabletop.connector;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads an engine's answer (an HTTP body, a CLI's output) as text, up to a bound: a hostile or broken server
 * that sends without end costs at most {@link #LIMIT} bytes of memory, then a clear error.
 */
public final class Bounded {
    /** 256 MB: ten times the largest answer seen (Kudu's /dump-entities of 100,000 tablets is about 25 MB). */
    public static final int LIMIT = 256 * 1024 * 1024;

    private Bounded() {
    }

    /** The stream's text, or an IOException saying it was larger than {@code limit} bytes. */
    public static String text(InputStream in, int limit) throws IOException {
        byte[] b = in.readNBytes(limit + 1);
        if (b.length > limit) {
            throw new IOException("the answer is larger than " + limit / (1024 * 1024) + " MB; not read further");
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    public static String text(InputStream in) throws IOException {
        return text(in, LIMIT);
    }
}
