package io.tabletop.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything Tabletop writes (journals, the audit log, logs, snapshots of a cluster's layout, review
 * bundles, settings) is private to the user who runs it: directories it creates are 0700 and files 0600, on
 * POSIX file systems (elsewhere the platform's defaults apply, and the README says so). A shared jump host's
 * other users cannot read who moved what, where, or the cluster's layout. Existing directories with wider
 * permissions are left as they are and reported ({@link #tooOpen}) with the command that fixes them.
 */
public final class PrivateFiles {
    private PrivateFiles() {
    }

    static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private static FileAttribute<?>[] dirAttrs() {
        return POSIX ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(DIR)} : new FileAttribute<?>[0];
    }

    private static FileAttribute<?>[] fileAttrs() {
        return POSIX ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(FILE)} : new FileAttribute<?>[0];
    }

    /** Creates {@code dir} and its missing parents, each new one 0700 (the umask cannot widen it: set after). */
    public static Path createDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        List<Path> missing = new ArrayList<>();
        for (Path p = abs; p != null && !Files.exists(p); p = p.getParent()) {
            missing.add(0, p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p, dirAttrs());
            } catch (java.nio.file.FileAlreadyExistsException e) {
                continue; // made meanwhile by another thread or process
            }
            if (POSIX) {
                Files.setPosixFilePermissions(p, DIR);
            }
        }
        return dir;
    }

    /** Opens a file channel; a file it creates is 0600 from the start. */
    public static FileChannel open(Path file, OpenOption... options) throws IOException {
        Set<OpenOption> opts = Set.of(options);
        boolean creates = opts.contains(StandardOpenOption.CREATE) || opts.contains(StandardOpenOption.CREATE_NEW);
        if (creates && file.toAbsolutePath().getParent() != null) {
            createDirectories(file.toAbsolutePath().getParent());
        }
        FileChannel ch = FileChannel.open(file, opts, creates ? fileAttrs() : new FileAttribute<?>[0]);
        return ch;
    }

    /** Writes a whole text file, 0600, atomically ({@link #write}). */
    public static void writeString(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes a whole file, 0600, atomically: the bytes go to a temporary file beside it, which then replaces
     * it, so a reader (a reviewer's viewer, another process) sees the old file or the whole new one, never a
     * half-written one.
     */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp", fileAttrs());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
            try {
                Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        restrict(file);
    }

    /** Makes an existing file 0600 (a file another library created: a log, a PNG). */
    public static void restrict(Path file) throws IOException {
        if (POSIX && Files.isRegularFile(file)) {
            Files.setPosixFilePermissions(file, FILE);
        }
    }

    /**
     * A directory others can read or enter ("drwxr-xr-x"), with the command that makes it private; empty
     * when it is private, missing, or the file system has no POSIX permissions.
     */
    public static Optional<String> tooOpen(Path dir) {
        if (!POSIX || !Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir);
            Set<PosixFilePermission> others = EnumSet.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_EXECUTE,
                    PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE,
                    PosixFilePermission.OTHERS_WRITE);
            others.retainAll(p);
            if (others.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(dir + " can be read by other users (" + PosixFilePermissions.toString(p) + "); make it private with: chmod -R go-rwx '"
                    + dir + "'");
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }
}
