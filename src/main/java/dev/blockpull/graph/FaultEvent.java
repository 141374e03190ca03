package dev.blockpull.graph;

/** The requests a {@link FaultInjectionFilter} rule applies to (QEMU blkdebug's {@code iotype}). */
public enum FaultEvent {
    READ,
    /** Writes and write-zeroes, including copy-on-read's writes into the filtered image. */
    WRITE,
    FLUSH
}
