package dev.blockpull.io;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * One fault a {@link FaultInjectingBlockFile} injects. Rules are immutable: each remembers the
 * wrapper's counters at the moment it was set, so "the N-th write since the rule was set" needs
 * no mutable state and rules combine freely. Create them through the wrapper's methods.
 */
public sealed interface FaultRule {

    /** The message of an injected EIO, as strerror(EIO) reads. */
    String EIO = "Input/output error";

    /** The message of an injected ENOSPC, as strerror(ENOSPC) reads. */
    String ENOSPC = "No space left on device";

    /**
     * The error for write number {@code writeNo} (counted over the wrapper's life, from 1) of
     * {@code length} bytes at {@code position}, when {@code bytesBefore} bytes were accepted before it.
     */
    default @Nullable IOException onWrite(long writeNo, long bytesBefore, long position, int length) {
        return null;
    }

    /** The error for a read, or null. */
    default @Nullable IOException onRead(long position, int length) {
        return null;
    }

    /** The error for a force or truncate when {@code writesSoFar} writes were attempted, or null. */
    default @Nullable IOException onForce(long writesSoFar) {
        return null;
    }

    /**
     * Fails write number {@code armedAt + n}; with {@code crash}, also every later write, force
     * and truncate, as if the process had died at that write.
     */
    record FailWrite(long armedAt, long n, boolean crash) implements FaultRule {

        public FailWrite {
            if (n < 1) {
                throw new IllegalArgumentException("Writes are counted from 1, got " + n);
            }
        }

        @Override
        public @Nullable IOException onWrite(long writeNo, long bytesBefore, long position, int length) {
            long k = writeNo - armedAt;
            return k == n || (crash && k > n) ? new IOException(EIO) : null;
        }

        @Override
        public @Nullable IOException onForce(long writesSoFar) {
            return crash && writesSoFar - armedAt >= n ? new IOException(EIO) : null;
        }
    }

    /** EIO for reads and/or writes that overlap {@code [offset, offset + length)}. */
    record FailRange(long offset, long length, boolean reads, boolean writes) implements FaultRule {

        public FailRange {
            if (offset < 0 || length < 1) {
                throw new IllegalArgumentException("Bad range: offset " + offset + ", length " + length);
            }
        }

        @Override
        public @Nullable IOException onWrite(long writeNo, long bytesBefore, long position, int len) {
            return writes && overlaps(position, len) ? new IOException(EIO) : null;
        }

        @Override
        public @Nullable IOException onRead(long position, int len) {
            return reads && overlaps(position, len) ? new IOException(EIO) : null;
        }

        private boolean overlaps(long position, int len) {
            return len > 0 && position < offset + length && offset < position + len;
        }
    }

    /** ENOSPC for a write that would take the bytes written since {@code armedAtBytes} past {@code limit}. */
    record NoSpace(long armedAtBytes, long limit) implements FaultRule {

        public NoSpace {
            if (limit < 0) {
                throw new IllegalArgumentException("Negative byte limit " + limit);
            }
        }

        @Override
        public @Nullable IOException onWrite(long writeNo, long bytesBefore, long position, int length) {
            return bytesBefore - armedAtBytes + length > limit ? new NoSpaceIOException(ENOSPC) : null;
        }
    }
}
