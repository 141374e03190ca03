package dev.blockpull.io;

/**
 * What a read's data is for, so that storage can choose how to fetch it (QEMU's request flags
 * play this part). A stream copy reads each byte of the layers below the top exactly once, to
 * write it into the top: keeping it in the page cache would only push out pages a guest reads again,
 * and cold buffered reads from several copies at once defeat the kernel's read-ahead.
 */
public enum ReadHint {
    /** An ordinary read: through the page cache of a buffered file. */
    CACHED,
    /** Data read once, by a copy: aligned requests go around the page cache where the file system allows it. */
    ONCE
}
