package dev.blockpull.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One completed operation that changed a file, as a {@link WriteJournal} records it. Replaying
 * a prefix of a journal onto a copy of the original file gives the file as it would be had the
 * process died right after that operation (with every write having reached the disk).
 */
public sealed interface JournalEntry {

    /** Repeats this operation on {@code target}. */
    void applyTo(BlockFile target) throws IOException;

    /** A write of {@code data} at {@code position}; the bytes are a private copy. */
    record Write(long position, byte[] data) implements JournalEntry {

        public Write {
            data = data.clone();
        }

        /** A copy: the entry stays as recorded whatever the caller does with it. */
        @Override
        public byte[] data() {
            return data.clone();
        }

        public int length() {
            return data.length;
        }

        @Override
        public void applyTo(BlockFile target) throws IOException {
            target.write(ByteBuffer.wrap(data), position);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Write w && w.position == position && Arrays.equals(w.data, data);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(position) * 31 + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Write[position=" + position + ", length=" + data.length + "]";
        }
    }

    /** A flush; ordering points for crash tests ("everything before a Force is durable"). */
    record Force() implements JournalEntry {

        @Override
        public void applyTo(BlockFile target) throws IOException {
            target.force(true);
        }
    }

    /** A change of the file length. */
    record Truncate(long size) implements JournalEntry {

        @Override
        public void applyTo(BlockFile target) throws IOException {
            target.truncate(size);
        }
    }
}
