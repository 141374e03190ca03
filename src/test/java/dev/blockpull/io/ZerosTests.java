package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ZerosTests {

    static final int SIZE = 3 << 20; // past the 1 MiB block the checks compare against

    @Test
    void aRangeOfZerosIsZeroAndOneNonZeroByteAnywhereInItIsNot() {
        ByteBuffer buf = ByteBuffer.allocateDirect(SIZE);

        assertThat(Zeros.isZero(buf, 0, SIZE)).isTrue();
        for (int at : new int[] {0, (1 << 20) - 1, 1 << 20, SIZE - 1}) {
            buf.put(at, (byte) 1);
            assertThat(Zeros.isZero(buf, 0, SIZE)).as("byte %d set", at).isFalse();
            assertThat(Zeros.isZero(buf, 0, at)).as("up to byte %d", at).isTrue();
            buf.put(at, (byte) 0);
        }
    }

    @Test
    void theCheckLeavesTheBuffersPositionAndLimitAsTheyWere() {
        ByteBuffer buf = ByteBuffer.allocate(SIZE).position(100).limit(5000);
        buf.put(4000, (byte) 7);

        boolean zero = Zeros.isZero(buf, 2000, SIZE);

        assertThat(zero).isFalse();
        assertThat(buf.position()).isEqualTo(100);
        assertThat(buf.limit()).isEqualTo(5000);
    }

    @Test
    void fillZeroesTheRemainingBytesAndAdvancesToTheLimit() {
        ByteBuffer buf = ByteBuffer.allocateDirect(SIZE);
        while (buf.hasRemaining()) {
            buf.put((byte) 0x5a);
        }
        buf.position(10).limit(SIZE - 10);

        Zeros.fill(buf);

        assertThat(buf.position()).isEqualTo(SIZE - 10);
        assertThat(Zeros.isZero(buf, 10, SIZE - 10)).isTrue();
        buf.clear();
        assertThat(buf.get(9)).isEqualTo((byte) 0x5a);
        assertThat(buf.get(SIZE - 10)).isEqualTo((byte) 0x5a);
    }

    @Test
    void checksAndFillsAllocateNoBufferViews() {
        ByteBuffer buf = ByteBuffer.allocateDirect(SIZE);
        for (int i = 0; i < 20_000; i++) { // warm: the JIT, and this thread's view of the zeros
            Zeros.isZero(buf, 0, 4096);
            Zeros.fill(buf.clear().limit(4096));
        }
        long before = allocatedBytes();

        for (int i = 0; i < 1000; i++) {
            Zeros.isZero(buf, 0, SIZE);
            Zeros.fill(buf.clear());
        }

        // a view per call would be ~48 bytes each, 4 per iteration: 190 KB
        assertThat(allocatedBytes() - before).isLessThan(16 * 1024);
    }

    private static long allocatedBytes() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return mx.getThreadAllocatedBytes(Thread.currentThread().getId());
    }
}
