package io.tabletop.service;

import io.tabletop.connector.ClusterConnector;
import io.tabletop.store.ProcessLock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The locks that keep one process on a run and one operation on a cluster ({@link ProcessLock}, OS file
 * locks held by the live process): a run's lock in its directory; a cluster's in the data directory and in a
 * machine-wide directory every user and data directory on this machine shares; and the locks taken for
 * resumes being prepared, by run id, until the resume runs or is left. Thread-safe.
 */
final class RunLocks {
    private static final Logger LOG = Logger.getLogger(RunLocks.class.getName());
    /** The run's lock file, in its directory: held by the process that runs the run. */
    static final String RUN_LOCK = "run.lock";
    /** The system property naming the machine-wide lock directory (tests point it at a directory of their own). */
    static final String SHARED_LOCKS_PROPERTY = "tabletop.locks";

    private final Path runsDir;
    private final Map<String, List<ProcessLock>> claims = new ConcurrentHashMap<>();

    RunLocks(Path runsDir) {
        this.runsDir = runsDir;
    }

    /** What a holder writes into a lock: "process 4242 (user ana) resumes run 20250101-101010-ab12 since 10:10:11Z". */
    static String holderLine(String runId, String verb) {
        return "process " + ProcessHandle.current().pid() + " (user " + Runs.user() + ") " + verb + " run " + runId
                + " since " + Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    /**
     * The machine-wide directory of cluster locks, shared by every user and data directory on this machine:
     * {@code tabletop.locks} where set, else {@code java.io.tmpdir/tabletop-locks} (made 1777: anyone may add a
     * lock file, none may remove another's).
     */
    static Path sharedLockDir() {
        String dir = System.getProperty(SHARED_LOCKS_PROPERTY);
        return dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(System.getProperty("java.io.tmpdir"), "tabletop-locks");
    }

    /** The cluster's lock key as a file name: {@code cluster-KEY.lock}. */
    private static String clusterLockName(ClusterConnector connector, String cluster) {
        String key = connector.lockKey(cluster);
        String name = key.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]+", "_");
        if (name.length() > 80) {
            name = name.substring(0, 60) + "-" + Integer.toHexString(key.hashCode());
        }
        return "cluster-" + name + ".lock";
    }

    /** The cluster's lock in this data directory (what versions before the machine-wide lock took, too). */
    private Path clusterLockFile(ClusterConnector connector, String cluster) {
        return runsDir.toAbsolutePath().resolveSibling("locks").resolve(clusterLockName(connector, cluster));
    }

    /** The cluster's lock in the machine-wide directory, that directory made (1777) where missing. */
    private static Path sharedClusterLockFile(ClusterConnector connector, String cluster) throws IOException {
        Path dir = sharedLockDir().toAbsolutePath();
        if (!Files.isDirectory(dir)) {
            try {
                Files.createDirectories(dir);
                Files.setAttribute(dir, "unix:mode", 01777);
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                // no POSIX modes here: the directory as made
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another process made it at the same moment
            }
        }
        return dir.resolve(clusterLockName(connector, cluster));
    }

    /**
     * Takes the cluster's locks for run {@code runId}: this data directory's, and the machine-wide one that
     * another user or data directory on this machine takes too; refused in one line naming the run that holds
     * either. When the machine-wide lock cannot be used (its directory or file not writable by this user), a
     * one-line warning says so and the data directory's lock alone is held.
     */
    List<ProcessLock> lockCluster(ClusterConnector connector, String cluster, String runId, String verb) throws IOException {
        Path file = clusterLockFile(connector, cluster);
        Optional<ProcessLock> l = ProcessLock.tryAcquire(file, holderLine(runId, verb));
        if (l.isEmpty()) {
            throw new Runs.LockedException(busy(cluster, ProcessLock.holder(file).orElse("another process")));
        }
        List<ProcessLock> out = new ArrayList<>(List.of(l.get()));
        Path shared = null;
        try {
            shared = sharedClusterLockFile(connector, cluster);
            Optional<ProcessLock> s = ProcessLock.tryAcquireShared(shared, holderLine(runId, verb));
            if (s.isPresent()) {
                out.add(s.get());
                return out;
            }
        } catch (IOException e) {
            LOG.warning("cannot use the machine-wide lock " + (shared == null ? sharedLockDir() : shared) + " (" + e
                    + "): only this data directory's lock on cluster " + cluster + " is held");
            return out;
        }
        String holder;
        try {
            holder = ProcessLock.holder(shared).orElse("another process");
        } catch (IOException e) {
            holder = "another process";
        }
        releaseAll(out);
        throw new Runs.LockedException(busy(cluster, holder));
    }

    /** Who holds the cluster's lock, in this data directory or machine-wide; empty when no one. */
    Optional<String> clusterHolder(ClusterConnector connector, String cluster) throws IOException {
        Optional<String> holder = ProcessLock.holder(clusterLockFile(connector, cluster));
        if (holder.isEmpty()) {
            try {
                holder = ProcessLock.holder(sharedClusterLockFile(connector, cluster));
            } catch (IOException e) {
                LOG.fine("cannot look at the machine-wide lock: " + e);
            }
        }
        return holder;
    }

    static String busy(String cluster, String holder) {
        return "another operation runs on cluster " + cluster + " from this machine: " + holder
                + "; wait for it to end (or cancel it), then try again";
    }

    /** The lock of a run starting now in {@code runDir}; refused when someone holds it. */
    ProcessLock lockRun(Path runDir, String runId, String verb) throws IOException {
        return ProcessLock.tryAcquire(runDir.resolve(RUN_LOCK), holderLine(runId, verb))
                .orElseThrow(() -> new Runs.LockedException("run " + runId + " is locked by another process"));
    }

    /**
     * Takes run {@code runId}'s lock for a resume being prepared in this process, kept here until {@link #take}
     * or {@link #release}; refused in one line naming the holder. Taking it again changes nothing.
     */
    void claim(String runId, Path runDir) throws IOException {
        if (claims.containsKey(runId)) {
            return;
        }
        Path file = runDir.resolve(RUN_LOCK);
        Optional<ProcessLock> l = ProcessLock.tryAcquire(file, holderLine(runId, "resumes"));
        if (l.isEmpty()) {
            throw new Runs.LockedException("run " + runId + " is taken: " + ProcessLock.holder(file).orElse("another process")
                    + "; one process at a time runs a run");
        }
        claims.put(runId, new CopyOnWriteArrayList<>(List.of(l.get())));
    }

    /** The locks claimed for a resume of {@code runId} (the cluster's are added to them). */
    List<ProcessLock> claimed(String runId) {
        return claims.get(runId);
    }

    /** Hands the locks claimed for {@code runId} to the resumed run; null when none were claimed. */
    List<ProcessLock> take(String runId) {
        return claims.remove(runId);
    }

    /** Lets go of the locks claimed for a resume that will not run. */
    void release(String runId) {
        List<ProcessLock> l = claims.remove(runId);
        if (l != null) {
            releaseAll(l);
        }
    }

    static void releaseAll(List<ProcessLock> locks) {
        for (ProcessLock l : locks) {
            try {
                l.close();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "releasing " + l.file(), e);
            }
        }
        locks.clear();
    }
}
