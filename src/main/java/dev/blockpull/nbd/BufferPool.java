package dev.blockpull.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers for request payloads and read data, in power-of-two size classes from 4 KiB up to
 * the largest request. Direct memory is freed only by the garbage collector, so buffers are
 * reused rather than dropped; the pool keeps at most {@code maxCachedBytes} idle. Every
 * {@link #acquire} must be matched by one {@link #release}; {@link #outstanding()} lets tests
 * prove that no request path loses a buffer.
 */
public final class BufferPool {

    private static final int MIN_SHIFT = 12;

    private final ConcurrentLinkedQueue<ByteBuffer>[] classes;
    private final long maxCachedBytes;
    private final AtomicLong cachedBytes = new AtomicLong();
    private final AtomicInteger outstanding = new AtomicInteger();

    @SuppressWarnings("unchecked")
    public BufferPool(int maxBufferSize, long maxCachedBytes) {
        int maxShift = 32 - Integer.numberOfLeadingZeros(Math.max(1, maxBufferSize - 1));
        this.classes = new ConcurrentLinkedQueue[Math.max(1, maxShift - MIN_SHIFT + 1)];
        for (int i = 0; i < classes.length; i++) {
            classes[i] = new ConcurrentLinkedQueue<>();
        }
        this.maxCachedBytes = maxCachedBytes;
    }

    /** A cleared buffer with {@code limit == size}, capacity the size class. */
    public ByteBuffer acquire(int size) {
        int cls = classOf(size);
        outstanding.incrementAndGet();
        if (cls >= classes.length) {
            return ByteBuffer.allocateDirect(size);
        }
        ByteBuffer b = classes[cls].poll();
        if (b != null) {
            cachedBytes.addAndGet(-b.capacity());
        } else {
            b = ByteBuffer.allocateDirect(1 << (cls + MIN_SHIFT));
        }
        b.clear().limit(size);
        return b;
    }

    public void release(ByteBuffer b) {
        outstanding.decrementAndGet();
        int cap = b.capacity();
        if (Integer.bitCount(cap) != 1 || cap < (1 << MIN_SHIFT)) {
            return;
        }
        int cls = Integer.numberOfTrailingZeros(cap) - MIN_SHIFT;
        if (cls < classes.length && cachedBytes.addAndGet(cap) <= maxCachedBytes) {
            classes[cls].offer(b);
        } else if (cls < classes.length) {
            cachedBytes.addAndGet(-cap);
        }
    }

    /** Buffers handed out and not yet released. */
    public int outstanding() {
        return outstanding.get();
    }

    private static int classOf(int size) {
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(1, size - 1));
        return Math.max(0, shift - MIN_SHIFT);
    }
}
