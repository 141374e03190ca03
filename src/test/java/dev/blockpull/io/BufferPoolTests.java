package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BufferPoolTests {

    @Test
    void buffersArePageAlignedDirectAndSizedAsAsked() {
        BufferPool pool = new BufferPool(1 << 20, 8 << 20);

        ByteBuffer b = pool.acquire(100_000);

        assertThat(b.isDirect()).isTrue();
        assertThat(b.alignmentOffset(0, BufferPool.ALIGNMENT)).isZero();
        assertThat(b.position()).isZero();
        assertThat(b.limit()).isEqualTo(100_000);
        assertThat(b.capacity()).isEqualTo(128 * 1024);
    }

    @Test
    void aReleasedBufferIsReusedWithoutMakingAnother() {
        BufferPool pool = new BufferPool(1 << 20, 8 << 20);
        ByteBuffer first = pool.acquire(64 * 1024);
        pool.release(first);

        ByteBuffer again = pool.acquire(60 * 1024);

        assertThat(again).isSameAs(first);
        assertThat(again.limit()).isEqualTo(60 * 1024);
        assertThat(pool.created()).isEqualTo(1);
    }

    @Test
    void idleBuffersNeverExceedTheBound() {
        BufferPool pool = new BufferPool(1 << 20, 2 << 20);
        ByteBuffer[] out = new ByteBuffer[4];
        for (int i = 0; i < out.length; i++) {
            out[i] = pool.acquire(1 << 20);
        }

        for (ByteBuffer b : out) {
            pool.release(b);
        }

        assertThat(pool.idleBytes()).isEqualTo(2 << 20);
        assertThat(pool.outstanding()).isZero();
    }

    @Test
    void acquiringNeverBlocksWhenEverythingIsOut() {
        BufferPool pool = new BufferPool(64 * 1024, 64 * 1024);
        ByteBuffer held = pool.acquire(64 * 1024);

        ByteBuffer more = pool.acquire(64 * 1024);

        assertThat(more).isNotSameAs(held);
        assertThat(pool.created()).isEqualTo(2);
        assertThat(pool.outstanding()).isEqualTo(2);
    }

    @Test
    void requestsLargerThanTheLargestClassAreServedAndDropped() {
        BufferPool pool = new BufferPool(64 * 1024, 8 << 20);

        ByteBuffer big = pool.acquire(200_000);
        pool.release(big);

        assertThat(big.capacity()).isEqualTo(200_000);
        assertThat(big.alignmentOffset(0, BufferPool.ALIGNMENT)).isZero();
        assertThat(pool.idleBytes()).isZero();
    }

    @Test
    void anAccountCountsOnlyItsOwnOutstandingBuffers() {
        BufferPool pool = new BufferPool(1 << 20, 8 << 20);
        BufferPool.Account nbd = pool.account();
        pool.acquire(4096);

        ByteBuffer b = nbd.acquire(4096);
        assertThat(nbd.outstanding()).isEqualTo(1);
        nbd.release(b);

        assertThat(nbd.outstanding()).isZero();
        assertThat(pool.outstanding()).isEqualTo(1);
    }

    @Test
    void hasRoomForANewBufferWhileAQuarterOfDirectMemoryStaysFree() {
        BufferPool pool = new BufferPool(1 << 20, 8 << 20, new DirectMemory(() -> 100L << 20, 256L << 20));

        assertThat(pool.hasRoomFor(1 << 20)).as("156 MiB free, 64 MiB reserved").isTrue();
    }

    @Test
    void hasNoRoomForANewBufferThatWouldTakeFromTheReserve() {
        BufferPool pool = new BufferPool(1 << 20, 8 << 20, new DirectMemory(() -> 192L << 20, 256L << 20));

        assertThat(pool.hasRoomFor(1 << 20)).as("64 MiB free, 64 MiB reserved").isFalse();
    }

    @Test
    void anIdleBufferIsRoomEvenWhenDirectMemoryIsFull() {
        AtomicLong used = new AtomicLong();
        BufferPool pool = new BufferPool(1 << 20, 8 << 20, new DirectMemory(used::get, 256L << 20));
        pool.release(pool.acquire(1 << 20));

        used.set(256L << 20);

        assertThat(pool.hasRoomFor(1 << 20)).as("the idle 1 MiB buffer").isTrue();
        assertThat(pool.hasRoomFor(512 << 10)).as("a class with nothing idle").isFalse();
    }

    @Test
    void theReserveIsAtLeast32MiB() {
        BufferPool pool = new BufferPool(1 << 20, 8 << 20, new DirectMemory(() -> 32L << 20, 64L << 20));

        assertThat(pool.hasRoomFor(1 << 20))
                .as("32 MiB free, 32 MiB reserved, not a quarter (16)")
                .isFalse();
    }

    @Test
    void aBufferThatCannotBeMadeIsNotCountedAsOut() {
        BufferPool pool = new BufferPool(1 << 20, 8 << 20, new DirectMemory(() -> 0, 256L << 20, size -> {
            throw new OutOfMemoryError("Cannot reserve " + size + " bytes of direct buffer memory");
        }));

        assertThatExceptionOfType(OutOfMemoryError.class).isThrownBy(() -> pool.acquire(4096));

        assertThat(pool.outstanding()).isZero();
        assertThat(pool.created()).isZero();
    }
}
