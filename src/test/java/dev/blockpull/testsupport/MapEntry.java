package dev.blockpull.testsupport;

import org.jspecify.annotations.Nullable;

/**
 * One run of {@code qemu-img map --output=json}.
 *
 * @param depth   layer that answered: 0 = the image itself; for runs no layer holds, the depth
 *                where the lookup stopped (usually the number of layers below the top)
 * @param present allocated somewhere in the chain
 * @param zero    reads as zeros
 * @param data    holds data (compressed runs too)
 * @param offset  host offset in the answering layer's file; null for unallocated, plain-zero and
 *                compressed runs
 */
public record MapEntry(
        long start,
        long length,
        int depth,
        boolean present,
        boolean zero,
        boolean data,
        @Nullable Long offset) {

    public long end() {
        return start + length;
    }

    public boolean contains(long guestOffset) {
        return guestOffset >= start && guestOffset < end();
    }
}
