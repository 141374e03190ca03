package dev.blockpull.io;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * The JVM's direct memory: what its buffers hold now and the most they may hold
 * ({@code -XX:MaxDirectMemorySize}, else the heap's maximum). Past the limit the JDK answers an
 * allocation with OutOfMemoryError, after a full collection or several.
 *
 * @param used     bytes held by direct buffers now
 * @param limit    the most they may hold
 * @param allocate makes a direct buffer of that many bytes (the JDK's, or one that fails as it would)
 */
public record DirectMemory(LongSupplier used, long limit, IntFunction<ByteBuffer> allocate) {

    /** Direct memory that makes its buffers with the JDK. */
    public DirectMemory(LongSupplier used, long limit) {
        this(used, limit, ByteBuffer::allocateDirect);
    }

    /** This JVM's. */
    public static DirectMemory ofJvm() {
        LongSupplier used = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct"))
                .findFirst()
                .<LongSupplier>map(pool -> pool::getMemoryUsed)
                .orElse(() -> 0);
        return new DirectMemory(used, maxDirectMemory());
    }

    /** Bytes that new direct buffers may still take. */
    public long free() {
        return limit - used.getAsLong();
    }

    private static long maxDirectMemory() {
        HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        long max = 0;
        if (hotSpot != null) {
            try {
                max = Long.parseLong(hotSpot.getVMOption("MaxDirectMemorySize").getValue());
            } catch (IllegalArgumentException e) {
                max = 0; // not HotSpot's option: the JDK's default below
            }
        }
        return max > 0 ? max : Runtime.getRuntime().maxMemory();
    }
}
