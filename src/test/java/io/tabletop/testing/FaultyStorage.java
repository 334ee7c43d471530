package io.tabletop.testing;

import io.tabletop.store.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The disk, with a quota: once {@link #fillAfter} bytes more have been written through it (all files
 * together), a write puts down what still fits (a torn record, as a full disk leaves) and throws
 * "No space left on device". Truncating gives the space back. Thread-safe.
 */
public final class FaultyStorage implements Storage {
    private final AtomicLong left = new AtomicLong(Long.MAX_VALUE);

    /** From now on at most {@code bytes} more bytes fit. */
    public void fillAfter(long bytes) {
        left.set(bytes);
    }

    private volatile String refuse;

    /** From now on a write whose bytes contain {@code marker} puts nothing down and throws "No space left on device". */
    public void refuseWritesContaining(String marker) {
        refuse = marker;
    }

    /** The quota is lifted (space was freed). */
    public void free() {
        left.set(Long.MAX_VALUE);
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        return new Quota(Storage.DISK.open(file, options), file);
    }

    private final class Quota extends FileChannel {
        private final FileChannel in;
        private final Path file;

        Quota(FileChannel in, Path file) {
            this.in = in;
            this.file = file;
        }

        /** Takes room for up to {@code want} bytes; how many fit. */
        private int room(int want) {
            while (true) {
                long l = left.get();
                long take = Math.min(l, want);
                if (l == Long.MAX_VALUE || left.compareAndSet(l, l - take)) {
                    return (int) take;
                }
            }
        }

        private FileSystemException full() {
            return new FileSystemException(file.toString(), null, "No space left on device");
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            String marker = refuse;
            if (marker != null && java.nio.charset.StandardCharsets.UTF_8.decode(src.duplicate()).toString().contains(marker)) {
                throw full();
            }
            int want = src.remaining();
            int fits = room(want);
            if (fits < want) {
                ByteBuffer part = src.duplicate();
                part.limit(part.position() + fits);
                while (part.hasRemaining()) {
                    in.write(part);
                }
                src.position(part.position());
                throw full();
            }
            return in.write(src);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            int want = src.remaining();
            if (room(want) < want) {
                throw full();
            }
            return in.write(src, position);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += write(srcs[i]);
            }
            return n;
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            long before = in.size();
            in.truncate(size);
            if (before > size && left.get() != Long.MAX_VALUE) {
                left.addAndGet(before - size);
            }
            return this;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return in.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return in.read(dsts, offset, length);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return in.read(dst, position);
        }

        @Override
        public long position() throws IOException {
            return in.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            in.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return in.size();
        }

        @Override
        public void force(boolean metaData) throws IOException {
            in.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return in.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            throw new IOException("not supported by the test store");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            throw new IOException("not supported by the test store");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return in.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return in.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            in.close();
        }
    }
}
