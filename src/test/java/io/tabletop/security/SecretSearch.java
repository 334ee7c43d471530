package io.tabletop.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Searches a file's bytes for a secret (a journal or a review may hold any encoding around it). */
final class SecretSearch {
    private SecretSearch() {
    }

    static boolean contains(Path f, String s) throws IOException {
        byte[] needle = s.getBytes(StandardCharsets.UTF_8);
        byte[] hay = Files.readAllBytes(f);
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
