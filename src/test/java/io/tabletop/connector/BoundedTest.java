package io.tabletop.connector;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** An answer without end costs a bounded amount of memory, then one clear error. */
class BoundedTest {
    @Test
    void anAnswerPastTheBoundIsRefusedWithoutReadingItAll() throws Exception {
        InputStream endless = new InputStream() {
            long served;

            @Override
            public int read() {
                served++;
                return 'x';
            }
        };
        IOException e = assertThrows(IOException.class, () -> Bounded.text(endless, 4 * 1024 * 1024));
        assertEquals("the answer is larger than 4 MB; not read further", e.getMessage());
        assertEquals("{\"ok\":true}", Bounded.text(new ByteArrayInputStream("{\"ok\":true}".getBytes()), 16));
    }
}
