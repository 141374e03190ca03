package dev.blockpull.format.qcow2;

import dev.blockpull.format.Image;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A guest workload for the crash tests (writes, zero writes, flushes) and the model of what a
 * crash may leave: after {@code c} completed flushes every byte written before flush {@code c}
 * reads back exactly, and each piece (one guest cluster) of a write issued after it reads either
 * wholly as before or wholly as written. The model tracks 64 KiB granules around every operation
 * plus any probe offsets, which keeps it small for sparse guests of any size.
 */
final class CrashWorkload {

    static final int GRANULE = 64 * 1024;

    enum OpKind {
        WRITE,
        ZERO,
        FLUSH
    }

    /** One guest operation; a write's bytes depend on the pattern and the guest position. */
    record Op(OpKind kind, long offset, long length, int pattern, boolean mayUnmap) {

        static Op write(long offset, long length, int pattern) {
            return new Op(OpKind.WRITE, offset, length, pattern, false);
        }

        static Op zero(long offset, long length, boolean mayUnmap) {
            return new Op(OpKind.ZERO, offset, length, 0, mayUnmap);
        }

        static Op flush() {
            return new Op(OpKind.FLUSH, 0, 0, 0, false);
        }

        long end() {
            return offset + length;
        }

        /** What this operation leaves at guest position {@code pos}. */
        byte byteAt(long pos) {
            return kind == OpKind.WRITE ? (byte) (pattern + ((pos >>> 9) & 0x3F)) : 0;
        }

        byte[] data() {
            byte[] b = new byte[(int) length];
            for (int i = 0; i < b.length; i++) {
                b[i] = byteAt(offset + i);
            }
            return b;
        }

        void applyTo(Image image) {
            switch (kind) {
                case WRITE -> image.write(offset, ByteBuffer.wrap(data()));
                case ZERO -> image.writeZeroes(offset, length, mayUnmap);
                case FLUSH -> image.flush();
            }
        }

        @Override
        public String toString() {
            return switch (kind) {
                case WRITE -> String.format("write(0x%x, %d, 0x%02x)", offset, length, pattern);
                case ZERO -> String.format("zero(0x%x, %d%s)", offset, length, mayUnmap ? ", unmap" : "");
                case FLUSH -> "flush";
            };
        }
    }

    private final List<Op> ops;
    private final int clusterSize;
    /** Content after all operations before flush number {@code c} (index c; 0 = initial). */
    private final List<Map<Long, byte[]>> acknowledged = new ArrayList<>();
    /** Operations after flush number {@code c} and before the next one. */
    private final List<List<Op>> windows = new ArrayList<>();

    /**
     * @param initial     content of every granule {@link #granules} names, before the workload
     * @param clusterSize the image's cluster size: a write lands atomically per guest cluster
     */
    CrashWorkload(List<Op> ops, Map<Long, byte[]> initial, int clusterSize) {
        this.ops = List.copyOf(ops);
        this.clusterSize = clusterSize;
        Map<Long, byte[]> current = copy(initial);
        acknowledged.add(copy(current));
        List<Op> window = new ArrayList<>();
        for (Op op : ops) {
            if (op.kind() == OpKind.FLUSH) {
                windows.add(window);
                window = new ArrayList<>();
                acknowledged.add(copy(current));
                continue;
            }
            for (Op other : window) {
                if (op.offset() < other.end() && other.offset() < op.end()) {
                    throw new IllegalArgumentException(op + " overlaps " + other + " in the same flush window; "
                            + "the model needs each unflushed byte written at most once");
                }
            }
            apply(current, op);
            window.add(op);
        }
        windows.add(window);
        acknowledged.add(current); // everything, as a clean close leaves it
    }

    List<Op> ops() {
        return ops;
    }

    int flushes() {
        return windows.size() - 1;
    }

    /** Granule starts covering every operation and every probe offset. */
    static TreeSet<Long> granules(List<Op> ops, List<Long> probes) {
        TreeSet<Long> out = new TreeSet<>();
        for (Op op : ops) {
            if (op.kind() != OpKind.FLUSH) {
                for (long g = op.offset() / GRANULE * GRANULE; g < op.end(); g += GRANULE) {
                    out.add(g);
                }
            }
        }
        for (long p : probes) {
            out.add(p / GRANULE * GRANULE);
        }
        return out;
    }

    /** The content once every operation has run and a final flush or close made it durable. */
    Map<Long, byte[]> finalContent() {
        return acknowledged.get(acknowledged.size() - 1);
    }

    /**
     * What is wrong with {@code actual} as the guest view after a crash that followed
     * {@code completedFlushes} completed flushes; empty when the crash is survivable. One more
     * than {@link #flushes()} means "after a clean close": everything must read back.
     */
    List<String> problems(Map<Long, byte[]> actual, int completedFlushes) {
        Map<Long, byte[]> ack = acknowledged.get(completedFlushes);
        List<Op> pending = completedFlushes < windows.size() ? windows.get(completedFlushes) : List.of();
        List<String> out = new ArrayList<>();
        for (Map.Entry<Long, byte[]> g : new TreeMap<>(ack).entrySet()) {
            long start = g.getKey();
            byte[] expected = g.getValue();
            byte[] got = actual.get(start);
            boolean[] covered = new boolean[GRANULE];
            for (Op op : pending) {
                for (long pos = Math.max(op.offset(), start); pos < Math.min(op.end(), start + GRANULE); pos++) {
                    covered[(int) (pos - start)] = true;
                }
            }
            for (int i = 0; i < GRANULE; i++) {
                if (!covered[i] && got[i] != expected[i]) {
                    out.add(String.format(
                            "guest 0x%x reads 0x%02x, acknowledged content is 0x%02x (%d flushes completed)",
                            start + i, got[i], expected[i], completedFlushes));
                    break;
                }
            }
        }
        for (Op op : pending) {
            long pos = op.offset();
            while (pos < op.end()) {
                long segEnd = Math.min(op.end(), (pos / clusterSize + 1) * clusterSize);
                long g = pos / GRANULE * GRANULE;
                byte[] got = actual.get(g);
                byte[] old = ack.get(g);
                boolean isOld = true;
                boolean isNew = true;
                for (long p = pos; p < segEnd && (isOld || isNew); p++) {
                    byte b = got[(int) (p - g)];
                    isOld &= b == old[(int) (p - g)];
                    isNew &= b == op.byteAt(p);
                }
                if (!isOld && !isNew) {
                    out.add(String.format(
                            "guest [0x%x, 0x%x) of unflushed %s reads neither the old nor the new content",
                            pos, segEnd, op));
                }
                pos = segEnd;
            }
        }
        return out;
    }

    private static void apply(Map<Long, byte[]> content, Op op) {
        for (long pos = op.offset(); pos < op.end(); pos++) {
            long g = pos / GRANULE * GRANULE;
            byte[] granule = content.get(g);
            if (granule == null) {
                throw new IllegalStateException("no granule tracked at 0x" + Long.toHexString(g));
            }
            granule[(int) (pos - g)] = op.byteAt(pos);
        }
    }

    private static Map<Long, byte[]> copy(Map<Long, byte[]> m) {
        Map<Long, byte[]> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, Arrays.copyOf(v, v.length)));
        return out;
    }
}
