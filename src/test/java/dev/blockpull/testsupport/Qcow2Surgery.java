package dev.blockpull.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Byte patches on a closed qcow2 file, to make the damage {@code qemu-img check} must find
 * (qcow2-notes §10.1): clearing an L2 entry leaks its data cluster (exit 3); dropping a used
 * cluster's refcount to 0 is a corruption (exit 2). Standard and extended L2 entries, refcount
 * widths 1 to 64 bits. Never use it on an image another process has open.
 */
public final class Qcow2Surgery {

    public static final long L1E_OFFSET_MASK = 0x00FFFFFFFFFFFE00L;
    public static final long L2E_OFFSET_MASK = 0x00FFFFFFFFFFFE00L;
    public static final long REFT_OFFSET_MASK = 0xFFFFFFFFFFFFFE00L;
    public static final long OFLAG_COPIED = 1L << 63;
    public static final long OFLAG_COMPRESSED = 1L << 62;
    public static final long OFLAG_ZERO = 1L;

    private static final int QCOW_MAGIC = 0x514649FB;
    private static final long INCOMPAT_EXTL2 = 1L << 4;

    private Qcow2Surgery() {}

    /** The header fields the patches need. */
    public record Header(
            int version,
            int clusterBits,
            long size,
            int l1Size,
            long l1TableOffset,
            long refcountTableOffset,
            int refcountTableClusters,
            int refcountOrder,
            long incompatibleFeatures) {

        public int clusterSize() {
            return 1 << clusterBits;
        }

        public boolean extendedL2() {
            return (incompatibleFeatures & INCOMPAT_EXTL2) != 0;
        }

        public int l2EntrySize() {
            return extendedL2() ? 16 : 8;
        }

        public int l2Bits() {
            return clusterBits - Integer.numberOfTrailingZeros(l2EntrySize());
        }

        public int refcountBits() {
            return 1 << refcountOrder;
        }
    }

    public static Header header(Path image) {
        ByteBuffer h = read(image, 0, 104);
        if (h.getInt(0) != QCOW_MAGIC) {
            throw new IllegalArgumentException(image + " is not a qcow2 image");
        }
        int version = h.getInt(4);
        return new Header(
                version,
                h.getInt(20),
                h.getLong(24),
                h.getInt(36),
                h.getLong(40),
                h.getLong(48),
                h.getInt(56),
                version >= 3 ? h.getInt(96) : 4,
                version >= 3 ? h.getLong(72) : 0);
    }

    /**
     * File position of the (first u64 of the) L2 entry mapping {@code guestOffset}, or -1 when no
     * L2 table covers it.
     */
    public static long l2EntryPosition(Path image, long guestOffset) {
        Header h = header(image);
        int l2Bits = h.l2Bits();
        long l1Index = guestOffset >>> (h.clusterBits() + l2Bits);
        if (l1Index >= h.l1Size()) {
            return -1;
        }
        long l1Entry = read(image, h.l1TableOffset() + l1Index * 8, 8).getLong(0);
        long l2Table = l1Entry & L1E_OFFSET_MASK;
        if (l2Table == 0) {
            return -1;
        }
        long l2Index = (guestOffset >>> h.clusterBits()) & ((1L << l2Bits) - 1);
        return l2Table + l2Index * h.l2EntrySize();
    }

    /** The raw L2 entry for {@code guestOffset}; 0 when unallocated. */
    public static long l2Entry(Path image, long guestOffset) {
        long pos = l2EntryPosition(image, guestOffset);
        return pos < 0 ? 0 : read(image, pos, 8).getLong(0);
    }

    public static void setL2Entry(Path image, long guestOffset, long entry) {
        long pos = l2EntryPosition(image, guestOffset);
        if (pos < 0) {
            throw new IllegalArgumentException("no L2 table maps guest offset " + guestOffset + " in " + image);
        }
        write(image, pos, ByteBuffer.allocate(8).putLong(0, entry));
    }

    /**
     * Makes the cluster at {@code guestOffset} unallocated without touching refcounts: its data
     * cluster leaks (check exit 3). For extended L2 the subcluster bitmap is cleared as well.
     */
    public static void clearL2Entry(Path image, long guestOffset) {
        long pos = l2EntryPosition(image, guestOffset);
        if (pos < 0) {
            throw new IllegalArgumentException("no L2 table maps guest offset " + guestOffset + " in " + image);
        }
        write(image, pos, ByteBuffer.allocate(header(image).l2EntrySize()));
    }

    /** Host offset of the (standard, uncompressed) data cluster at {@code guestOffset}; 0 when none. */
    public static long hostOffset(Path image, long guestOffset) {
        long entry = l2Entry(image, guestOffset);
        if ((entry & OFLAG_COMPRESSED) != 0) {
            throw new IllegalArgumentException("compressed cluster at guest offset " + guestOffset);
        }
        return entry & L2E_OFFSET_MASK;
    }

    /** The refcount of the host cluster containing {@code hostOffset}. */
    public static long refcount(Path image, long hostOffset) {
        RefcountSlot slot = refcountSlot(image, hostOffset);
        ByteBuffer b = read(image, slot.bytePosition, slot.bytes());
        return slot.decode(b);
    }

    /** Overwrites the refcount of the host cluster containing {@code hostOffset}. */
    public static void setRefcount(Path image, long hostOffset, long value) {
        RefcountSlot slot = refcountSlot(image, hostOffset);
        ByteBuffer b = read(image, slot.bytePosition, slot.bytes());
        write(image, slot.bytePosition, slot.encode(b, value));
    }

    private record RefcountSlot(long bytePosition, int bits, int shift) {
        int bytes() {
            return Math.max(1, bits / 8);
        }

        long decode(ByteBuffer b) {
            if (bits < 8) {
                return (b.get(0) >>> shift) & ((1 << bits) - 1);
            }
            long v = 0;
            for (int i = 0; i < bytes(); i++) {
                v = (v << 8) | (b.get(i) & 0xff);
            }
            return v;
        }

        ByteBuffer encode(ByteBuffer current, long value) {
            if (bits < 8) {
                int mask = ((1 << bits) - 1) << shift;
                int old = current.get(0) & 0xff;
                current.put(0, (byte) ((old & ~mask) | (((int) value << shift) & mask)));
                return current;
            }
            for (int i = bytes() - 1; i >= 0; i--) {
                current.put(i, (byte) value);
                value >>>= 8;
            }
            return current;
        }
    }

    private static RefcountSlot refcountSlot(Path image, long hostOffset) {
        Header h = header(image);
        int bits = h.refcountBits();
        long entriesPerBlock = (long) h.clusterSize() * 8 / bits;
        long cluster = hostOffset >>> h.clusterBits();
        long tableIndex = cluster / entriesPerBlock;
        if (tableIndex >= (long) h.refcountTableClusters() * h.clusterSize() / 8) {
            throw new IllegalArgumentException("host offset " + hostOffset + " beyond the refcount table");
        }
        long block = read(image, h.refcountTableOffset() + tableIndex * 8, 8).getLong(0) & REFT_OFFSET_MASK;
        if (block == 0) {
            throw new IllegalArgumentException("no refcount block covers host offset " + hostOffset);
        }
        long bitIndex = (cluster % entriesPerBlock) * bits;
        // QEMU packs sub-byte refcounts from the least significant bit of each byte up.
        return new RefcountSlot(block + bitIndex / 8, bits, (int) (bitIndex % 8));
    }

    private static ByteBuffer read(Path image, long position, int length) {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining()) {
                if (ch.read(b, position + b.position()) < 0) {
                    throw new IllegalArgumentException("short file " + image + " at " + position);
                }
            }
            return b.flip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path image, long position, ByteBuffer data) {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
            data.rewind();
            while (data.hasRemaining()) {
                ch.write(data, position + data.position());
            }
            ch.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
