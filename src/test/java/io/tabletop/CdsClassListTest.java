package io.tabletop;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The list of classes a removal on a real Kudu cluster loads (src/dist/make-kudu-classlist.sh), which the
 * package's start-up archive is trained with, still names this build's classes: a renamed connector class
 * or a new Kudu client (whose shaded Netty moves) would otherwise silently drop them from the archive.
 */
class CdsClassListTest {
    private static List<String> listed() throws IOException {
        try (InputStream in = Main.class.getResourceAsStream(Main.KUDU_CLASS_LIST)) {
            assertNotNull(in, Main.KUDU_CLASS_LIST + " is packaged");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        }
    }

    @Test
    void theTrainingLoadsNearlyEveryListedClassAndEveryOneOfKudusClient() throws IOException {
        List<String> names = listed();
        assertTrue(names.contains("org.apache.kudu.client.AsyncKuduClient"), "Kudu's client, which the consensus calls build");
        assertTrue(names.contains("io.tabletop.connector.kudu.KuduConsensus"), "the connector's consensus calls");
        assertTrue(names.stream().anyMatch(n -> n.startsWith("sun.security.ssl.")), "the TLS the client negotiates");
        assertTrue(names.stream().anyMatch(n -> n.startsWith("okhttp3.")), "the masters' web UI client");

        int[] r = Main.loadClassList(getClass().getClassLoader());
        assertEquals(names.size(), r[1], "every listed name was tried");
        assertTrue(r[0] >= names.size() * 95 / 100, r[0] + " of " + r[1] + " listed classes load: regenerate the list "
                + "(mvn package -DskipTests && src/dist/make-kudu-classlist.sh)");
        List<String> kuduMissing = names.stream().filter(n -> n.startsWith("org.apache.kudu.") && !loads(n)).toList();
        assertEquals(List.of(), kuduMissing, "Kudu client classes the list names but this build lacks: regenerate the list");
    }

    private static boolean loads(String name) {
        try {
            Class.forName(name, false, CdsClassListTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
