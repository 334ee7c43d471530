package io.tabletop.domain;

import java.util.Locale;

/** Human formatting of bytes and durations, shared by the UI, the command line and reports. */
public final class Units {
    private Units() {
    }

    /** "0 B", "512 B", "1.2 KB", "3.4 GB" (decimal units, as disks are sold and engines report). */
    public static String bytes(long b) {
        if (b < 1000) {
            return b + " B";
        }
        String[] u = {"KB", "MB", "GB", "TB", "PB"};
        double v = b;
        int i = -1;
        while (v >= 1000 && i < u.length - 1) {
            v /= 1000;
            i++;
        }
        return String.format(Locale.ROOT, v < 10 ? "%.1f %s" : "%.0f %s", v, u[i]);
    }

    /** Bytes, or "unknown" for null (an unknown size is never shown as zero). */
    public static String bytesOrUnknown(Long b) {
        return b == null ? "unknown" : bytes(b);
    }

    /** "0.4 s", "42 s", "3m 05s", "2h 10m". */
    public static String duration(double seconds) {
        if (seconds < 10) {
            return String.format(Locale.ROOT, "%.1f s", seconds);
        }
        long s = Math.round(seconds);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh %02dm", s / 3600, (s % 3600) / 60);
    }
}
