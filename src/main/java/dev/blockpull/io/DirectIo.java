package dev.blockpull.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * I/O on a channel opened with O_DIRECT, which wants buffer address, file position and length
 * aligned to the file store's block size. Aligned requests go straight to the channel; unaligned
 * ones bounce through an aligned buffer, writes as read-modify-write of the partial edge blocks.
 *
 * <p>A read-modify-write rewrites whole blocks, so it runs under an exclusive lock against all
 * other I/O here: a concurrent write into another part of the same block would otherwise be
 * lost, and a concurrent reader could see the padding of the last block before it is cut off.
 */
final class DirectIo {

    private final FileChannel channel;
    private final int align;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();

    DirectIo(FileChannel channel, int align) {
        this.channel = channel;
        this.align = align;
    }

    int align() {
        return align;
    }

    int read(ByteBuffer dst, long position) throws IOException {
        Lock shared = lock.readLock();
        shared.lock();
        try {
            return isAligned(dst, position) ? readLoop(dst, position) : bounceRead(dst, position);
        } finally {
            shared.unlock();
        }
    }

    void write(ByteBuffer src, long position) throws IOException {
        boolean aligned = isAligned(src, position);
        Lock held = aligned ? lock.readLock() : lock.writeLock();
        held.lock();
        try {
            if (aligned) {
                writeLoop(src, position);
            } else {
                bounceWrite(src, position);
            }
        } finally {
            held.unlock();
        }
    }

    long size() throws IOException {
        Lock shared = lock.readLock();
        shared.lock();
        try {
            return channel.size();
        } finally {
            shared.unlock();
        }
    }

    /** The exclusive lock, for length changes that must not interleave with a read-modify-write. */
    Lock exclusive() {
        return lock.writeLock();
    }

    /** Reads until {@code dst} is full or end of file. */
    private int readLoop(ByteBuffer dst, long position) throws IOException {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position + total);
            if (n <= 0) {
                break;
            }
            total += n;
            // O_DIRECT reads come back short only at end of file; an unaligned retry would be refused
            if ((position + total) % align != 0) {
                break;
            }
        }
        return total;
    }

    private void writeLoop(ByteBuffer src, long position) throws IOException {
        long pos = position;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
            if (src.hasRemaining() && pos % align != 0) {
                throw new IOException("Short O_DIRECT write at offset " + pos);
            }
        }
    }

    private int bounceRead(ByteBuffer dst, long position) throws IOException {
        long start = alignDown(position);
        ByteBuffer bounce = BufferPool.shared().acquire(Math.toIntExact(alignUp(position + dst.remaining()) - start));
        try {
            int got = readLoop(bounce, start);
            int skip = (int) (position - start);
            int n = Math.max(0, Math.min(dst.remaining(), got - skip));
            dst.put(bounce.limit(skip + n).position(skip));
            return n;
        } finally {
            BufferPool.shared().release(bounce);
        }
    }

    /** Read-modify-write of the partial edge blocks; the caller holds the exclusive lock. */
    private void bounceWrite(ByteBuffer src, long position) throws IOException {
        long oldSize = channel.size();
        long end = position + src.remaining();
        long start = alignDown(position);
        long alignedEnd = alignUp(end);
        int length = Math.toIntExact(alignedEnd - start);
        ByteBuffer bounce = BufferPool.shared().acquire(length);
        try {
            bounceWrite(src, position, oldSize, bounce);
        } finally {
            BufferPool.shared().release(bounce);
        }
    }

    private void bounceWrite(ByteBuffer src, long position, long oldSize, ByteBuffer bounce) throws IOException {
        long end = position + src.remaining();
        long start = alignDown(position);
        long alignedEnd = alignUp(end);
        int length = bounce.limit();
        Zeros.fill(bounce.duplicate()); // what the edge blocks hold past end of file reads as zeros
        boolean headRead = position != start && start < oldSize;
        if (headRead) {
            readLoop(bounce.duplicate().limit(align), start);
        }
        long lastBlock = alignedEnd - align;
        if (end != alignedEnd && lastBlock < oldSize && !(lastBlock == start && headRead)) {
            readLoop(bounce.duplicate().position(length - align), lastBlock);
        }
        bounce.position((int) (position - start));
        bounce.put(src);
        writeLoop(bounce.rewind(), start);
        // the padding of the last block must not leave the file longer than the write made it
        long wanted = Math.max(oldSize, end);
        if (alignedEnd > wanted) {
            channel.truncate(wanted);
        }
    }

    /**
     * Heap buffers always bounce here, although the JDK would copy them into an aligned buffer
     * itself: JDK 17 then keeps that buffer (a slice without a cleaner) in the thread's cache of
     * temporary buffers, and a later ordinary channel read on the thread fails with a
     * NullPointerException in {@code sun.nio.ch.Util.free} when the cache evicts it.
     */
    boolean isAligned(ByteBuffer buffer, long position) {
        return buffer.isDirect()
                && position % align == 0
                && buffer.remaining() % align == 0
                && buffer.alignmentOffset(buffer.position(), align) == 0;
    }

    private long alignDown(long value) {
        return value - value % align;
    }

    private long alignUp(long value) {
        return alignDown(value + align - 1);
    }
}
