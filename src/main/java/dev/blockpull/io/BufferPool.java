package dev.blockpull.io;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Page-aligned direct buffers for every hot I/O path: the stream copy loop, the copy-on-read
 * filter, the NBD server and O_DIRECT bounces. Direct memory is freed only by the garbage
 * collector, and a fresh buffer costs a page fault per 4 KiB, so buffers are reused: an idle
 * buffer waits in a stack of its power-of-two size class (4 KiB up to {@link #maxBufferSize()})
 * and at most {@link #maxIdleBytes()} wait in all. A buffer is zeroed, and so every page touched,
 * when it is made, never on the I/O path.
 *
 * <p>Acquiring never blocks: when a class has nothing idle, a new buffer is made (counted by
 * {@link #created()}), so nested users (a read through a filter inside an NBD request) cannot
 * deadlock. In a steady state every acquire is served from the stacks; tests prove it with
 * {@link #created()}. Buffers larger than the largest class are made and dropped each time.
 *
 * <p>Direct memory is bounded ({@code -XX:MaxDirectMemorySize}), and past the bound the JDK
 * throws OutOfMemoryError. Users that can make do with fewer buffers (a stream's extra copies in
 * flight) ask {@link #hasRoomFor} first, which keeps a reserve for I/O that cannot wait (NBD
 * requests, copy-on-read, a stream's first copy).
 *
 * <p>Every {@link #acquire} must be matched by one {@link #release}. The stacks are plain arrays
 * under a monitor per class: acquire and release allocate nothing.
 */
public final class BufferPool {

    /** The page size O_DIRECT wants at most on the file systems we meet (and a cache line multiple). */
    public static final int ALIGNMENT = 4096;

    private static final int MIN_SHIFT = 12;
    private static final int MAX_IDLE_PER_CLASS = 1024;
    private static final BufferPool SHARED = new BufferPool(32 << 20, 64L << 20, DirectMemory.ofJvm());
    /** The reserve {@link #hasRoomFor} keeps: a quarter of the limit, at least this. */
    private static final long MIN_RESERVE = 32L << 20;

    private final SizeClass[] classes;
    private final int maxBufferSize;
    private volatile long maxIdleBytes;
    private final AtomicLong idleBytes = new AtomicLong();
    private final AtomicLong created = new AtomicLong();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final DirectMemory directMemory;
    private final long reserve;

    /**
     * @param maxBufferSize largest pooled size, rounded up to a power of two of at least 4 KiB
     * @param maxIdleBytes  most bytes kept idle in all classes together
     */
    public BufferPool(int maxBufferSize, long maxIdleBytes) {
        this(maxBufferSize, maxIdleBytes, DirectMemory.ofJvm());
    }

    /** A pool that weighs {@link #hasRoomFor} against {@code directMemory}. */
    public BufferPool(int maxBufferSize, long maxIdleBytes, DirectMemory directMemory) {
        if (maxBufferSize < 1 || maxIdleBytes < 0) {
            throw new IllegalArgumentException("maxBufferSize " + maxBufferSize + ", maxIdleBytes " + maxIdleBytes);
        }
        int classCount = Math.max(0, shiftOf(maxBufferSize) - MIN_SHIFT) + 1;
        this.maxBufferSize = 1 << (classCount - 1 + MIN_SHIFT);
        this.maxIdleBytes = maxIdleBytes;
        this.directMemory = directMemory;
        this.reserve = Math.max(MIN_RESERVE, directMemory.limit() / 4);
        this.classes = new SizeClass[classCount];
        for (int i = 0; i < classCount; i++) {
            classes[i] = new SizeClass(MAX_IDLE_PER_CLASS);
        }
    }

    /** The pool of the process: one bound on the direct memory that I/O keeps for reuse. */
    public static BufferPool shared() {
        return SHARED;
    }

    /** Changes how many bytes may wait idle (configuration at start-up); extra idle buffers go at their next release. */
    public void setMaxIdleBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("maxIdleBytes must not be negative: " + bytes);
        }
        maxIdleBytes = bytes;
    }

    public long maxIdleBytes() {
        return maxIdleBytes;
    }

    public int maxBufferSize() {
        return maxBufferSize;
    }

    /**
     * A page-aligned direct buffer with {@code position 0} and {@code limit == size}; its
     * capacity is the size class (or exactly {@code size} past the largest class). Its content
     * is whatever its last user left.
     */
    public ByteBuffer acquire(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("Negative buffer size " + size);
        }
        int cls = classOf(size);
        ByteBuffer b;
        if (cls >= classes.length) {
            b = allocateAligned(size);
            created.incrementAndGet();
        } else if ((b = classes[cls].pop()) != null) {
            idleBytes.addAndGet(-b.capacity());
        } else {
            b = allocateAligned(1 << (cls + MIN_SHIFT));
            created.incrementAndGet();
        }
        // Counted once made: a buffer that could not be made (OutOfMemoryError) is not outstanding.
        outstanding.incrementAndGet();
        b.clear().limit(size);
        return b;
    }

    /**
     * Whether {@link #acquire} can serve {@code size} from an idle buffer, or make one and still
     * leave the reserve of direct memory free (a quarter of the limit, at least 32 MiB).
     */
    public boolean hasRoomFor(int size) {
        int cls = classOf(size);
        if (cls < classes.length && classes[cls].hasIdle()) {
            return true;
        }
        long made = cls < classes.length ? 1L << (cls + MIN_SHIFT) : size;
        return directMemory.free() - (made + ALIGNMENT) >= reserve;
    }

    /** Gives a buffer of {@link #acquire} back; it must not be used afterwards. */
    public void release(ByteBuffer b) {
        outstanding.decrementAndGet();
        int cap = b.capacity();
        if (Integer.bitCount(cap) != 1 || cap < (1 << MIN_SHIFT) || cap > maxBufferSize) {
            return; // an oversized one-off: the collector takes it
        }
        if (idleBytes.addAndGet(cap) > maxIdleBytes
                || !classes[Integer.numberOfTrailingZeros(cap) - MIN_SHIFT].push(b)) {
            idleBytes.addAndGet(-cap);
        }
    }

    /** Buffers handed out and not yet released. */
    public int outstanding() {
        return outstanding.get();
    }

    /** Buffers made since start: in a steady state this stops growing. */
    public long created() {
        return created.get();
    }

    /** Bytes waiting idle for reuse. */
    public long idleBytes() {
        return idleBytes.get();
    }

    /** A view of this pool that counts its own outstanding buffers (one per NBD server, say). */
    public Account account() {
        return new Account(this);
    }

    /** Acquires and releases through the pool, keeping a count of its own for leak checks. */
    public static final class Account {
        private final BufferPool pool;
        private final AtomicInteger outstanding = new AtomicInteger();

        private Account(BufferPool pool) {
            this.pool = pool;
        }

        public ByteBuffer acquire(int size) {
            ByteBuffer b = pool.acquire(size);
            outstanding.incrementAndGet();
            return b;
        }

        public void release(ByteBuffer b) {
            outstanding.decrementAndGet();
            pool.release(b);
        }

        /** This account's buffers handed out and not yet released. */
        public int outstanding() {
            return outstanding.get();
        }

        public BufferPool pool() {
            return pool;
        }
    }

    /**
     * An aligned direct buffer of exactly {@code size} bytes; zeroed by the JDK, so its pages are
     * touched now rather than on the first I/O.
     */
    private ByteBuffer allocateAligned(int size) {
        int whole = (size + ALIGNMENT - 1) & -ALIGNMENT; // alignedSlice keeps whole aligned blocks only
        return directMemory
                .allocate()
                .apply(whole + ALIGNMENT)
                .alignedSlice(ALIGNMENT)
                .slice(0, size);
    }

    private static int classOf(int size) {
        return Math.max(0, shiftOf(size) - MIN_SHIFT);
    }

    private static int shiftOf(int size) {
        return 32 - Integer.numberOfLeadingZeros(Math.max(1, size - 1));
    }

    /** Idle buffers of one size, last in first out (the warmest first). */
    private static final class SizeClass {
        private final ByteBuffer[] stack;
        private int size;

        SizeClass(int capacity) {
            stack = new ByteBuffer[capacity];
        }

        synchronized boolean hasIdle() {
            return size > 0;
        }

        synchronized @Nullable ByteBuffer pop() {
            if (size == 0) {
                return null;
            }
            ByteBuffer b = stack[--size];
            stack[size] = null;
            return b;
        }

        synchronized boolean push(ByteBuffer b) {
            if (size == stack.length) {
                return false;
            }
            stack[size++] = b;
            return true;
        }
    }
}
