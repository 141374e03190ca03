package dev.blockpull.format;

/** What one layer says about a guest range, as QEMU's block status does. */
public enum ExtentKind {
    /** This layer holds data for the range (plain or compressed). */
    DATA,
    /** This layer says the range reads as zeros; the backing chain is not consulted. */
    ZERO,
    /** This layer holds nothing: reads fall through to the backing chain. */
    UNALLOCATED;

    public boolean isAllocated() {
        return this != UNALLOCATED;
    }
}
