package io.tabletop.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * Where the append-only records (the audit log, the runs' journals) open their files: the disk, or in tests
 * a store that refuses writes or fills up, so that a failed write can be shown to stop a run.
 */
@FunctionalInterface
public interface Storage {
    FileChannel open(Path file, OpenOption... options) throws IOException;

    /** The disk, with files created 0600 ({@link PrivateFiles#open}). */
    Storage DISK = PrivateFiles::open;
}
