package io.tabletop.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * An OS file lock ({@link FileChannel#tryLock}) on one file, held by this process until {@link #close} or until
 * the process ends, whatever way it ends: the operating system lets go of it then, so a lock that is held
 * means a live process holds it, whatever its executable is called. The holder writes one line into the
 * file (its process, user and what it does) for whoever is refused to name it.
 *
 * <p>Within one JVM a file is locked once: a second {@link #tryAcquire} of a file this JVM holds is refused as
 * any other holder is. Every operation on lock files goes through one monitor, so that no channel is ever
 * opened (and closed) on a file this JVM holds: on Linux closing any descriptor of a file drops the
 * process's lock on it. Thread-safe.
 */
public final class ProcessLock implements AutoCloseable {
    private static final Object JVM = new Object();
    /** The lock files this JVM holds now. Guarded by {@link #JVM}. */
    private static final Map<Path, ProcessLock> HELD = new HashMap<>();
    /**
     * How many times a refused acquire tries again, 10 ms apart: another process's {@link #holder} looks by
     * taking the lock for an instant, which must not pass for a holder.
     */
    private static final int TRIES = 5;

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;
    private final String holder;
    private boolean released; // guarded by JVM

    private ProcessLock(Path file, FileChannel channel, FileLock lock, String holder) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
        this.holder = holder;
    }

    /**
     * Takes the lock on {@code file} (created, with its directory, where missing) and writes {@code holder}
     * into it; empty when another process or another part of this one holds it. Never waits for a holder.
     */
    public static Optional<ProcessLock> tryAcquire(Path file, String holder) throws IOException {
        return tryAcquire(file, holder, false);
    }

    /**
     * As {@link #tryAcquire}, on a lock file that other users of this machine lock too: created (where
     * missing) readable and writable by everyone (0666), so that a lock file one user made can be locked by
     * another. Its directory must exist. Fails (an {@link IOException}, such as access denied) when this user
     * cannot open the file for writing.
     */
    public static Optional<ProcessLock> tryAcquireShared(Path file, String holder) throws IOException {
        return tryAcquire(file, holder, true);
    }

    /** Opens a lock file everyone may lock, creating it 0666 where missing. */
    private static FileChannel openShared(Path key) throws IOException {
        try {
            Files.createFile(key);
            try {
                Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: its own rules stand
            }
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // made by this or another user before
        }
        return FileChannel.open(key, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    private static Optional<ProcessLock> tryAcquire(Path file, String holder, boolean shared) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        synchronized (JVM) {
            if (HELD.containsKey(key)) {
                return Optional.empty();
            }
            for (int tries = 1; ; tries++) {
                FileChannel ch;
                try {
                    ch = shared ? openShared(key)
                            : PrivateFiles.open(key, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                } catch (IOException e) {
                    throw RunJournal.named(key, e); // a full disk's bare "No space left on device" names no file
                }
                FileLock l;
                try {
                    l = ch.tryLock();
                } catch (IOException | OverlappingFileLockException e) {
                    ch.close();
                    if (e instanceof IOException io) {
                        throw RunJournal.named(key, io);
                    }
                    return Optional.empty();
                }
                if (l != null) {
                    try {
                        ch.truncate(0);
                        ch.write(ByteBuffer.wrap((holder.replaceAll("\\R", " ") + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                        ch.force(false);
                    } catch (IOException e) {
                        l.release();
                        ch.close();
                        throw RunJournal.named(key, e);
                    }
                    ProcessLock p = new ProcessLock(key, ch, l, holder);
                    HELD.put(key, p);
                    return Optional.of(p);
                }
                ch.close();
                if (tries >= TRIES) {
                    return Optional.empty();
                }
                try {
                    TimeUnit.MILLISECONDS.sleep(10); // another process's look lasts microseconds
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Optional.empty();
                }
            }
        }
    }

    /**
     * Who holds the lock on {@code file} now: the holder's line ("another process" where it wrote none yet),
     * or empty when no process holds it (or the file does not exist). Looks without waiting; changes nothing
     * a holder can see.
     */
    public static Optional<String> holder(Path file) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        synchronized (JVM) {
            ProcessLock mine = HELD.get(key);
            if (mine != null) {
                return Optional.of(mine.holder);
            }
            FileChannel ch;
            try {
                ch = FileChannel.open(key, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
            try (ch) {
                FileLock l;
                try {
                    l = ch.tryLock();
                } catch (OverlappingFileLockException e) {
                    l = null;
                }
                if (l != null) {
                    l.release();
                    return Optional.empty();
                }
            }
            String line;
            try {
                line = Files.readString(key, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                line = "";
            }
            return Optional.of(line.isEmpty() ? "another process" : line.lines().findFirst().orElse(line));
        }
    }

    public Path file() {
        return file;
    }

    /** The line this holder wrote. */
    public String holder() {
        return holder;
    }

    /** Lets go of the lock (once; later calls do nothing). The file stays, empty. */
    @Override
    public void close() throws IOException {
        synchronized (JVM) {
            if (released) {
                return;
            }
            released = true;
            HELD.remove(file);
            try {
                channel.truncate(0);
            } finally {
                try {
                    lock.release();
                } finally {
                    channel.close();
                }
            }
        }
    }
}
