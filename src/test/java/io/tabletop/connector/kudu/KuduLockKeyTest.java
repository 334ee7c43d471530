package io.tabletop.connector.kudu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** One Kudu cluster is one lock however its masters are typed (issue 31). */
class KuduLockKeyTest {
    @Test
    void mastersInAnotherOrderAndSpellingAreOneKey() {
        String key = KuduConnector.canonicalMasters("m1.example.com:7051,m2.example.com:7051,m3.example.com:7051");
        assertEquals("m1.example.com:7051,m2.example.com:7051,m3.example.com:7051", key);
        assertEquals(key, KuduConnector.canonicalMasters("M3.Example.COM:7051, m1.example.com ,m2.example.com:7051"));
        assertEquals(key, KuduConnector.canonicalMasters("kudu://m2.example.com,m3.example.com:7051,m1.example.com:7051"));
        assertNotEquals(key, KuduConnector.canonicalMasters("m1.example.com:7051,m2.example.com:7051,m4.example.com:7051"));
        assertNotEquals(key, KuduConnector.canonicalMasters("m1.example.com:7151,m2.example.com:7051,m3.example.com:7051"));
    }
}
