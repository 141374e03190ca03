package dev.blockpull.format.qcow2;

import dev.blockpull.testsupport.Qcow2Surgery;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Byte-level damage for the malformed-image and crash tests, and an independent reading of a
 * qcow2 file's layout (where each structure lives) so that tests know what a mutation or a
 * truncation cuts into. Works on closed files only.
 */
final class ImageMutations {

    static final int EXT_END = 0;
    static final int EXT_BACKING_FORMAT = 0xE2792ACA;
    static final int EXT_FEATURE_TABLE = 0x6803F857;
    static final int EXT_BITMAPS = 0x23852875;
    static final int EXT_DATA_FILE = 0x44415441;

    private ImageMutations() {}

    // ---------------------------------------------------------------- raw bytes

    static byte[] read(Path file, long position, int length) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining()) {
                if (ch.read(b, position + b.position()) < 0) {
                    break;
                }
            }
            return b.array();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long getLong(Path file, long position) {
        return ByteBuffer.wrap(read(file, position, 8)).getLong();
    }

    static int getInt(Path file, long position) {
        return ByteBuffer.wrap(read(file, position, 4)).getInt();
    }

    static void write(Path file, long position, byte[] bytes) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b, position + b.position());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void putLong(Path file, long position, long value) {
        write(file, position, ByteBuffer.allocate(8).putLong(0, value).array());
    }

    static void putInt(Path file, long position, int value) {
        write(file, position, ByteBuffer.allocate(4).putInt(0, value).array());
    }

    static void putByte(Path file, long position, int value) {
        write(file, position, new byte[] {(byte) value});
    }

    /** Cuts the file, or grows it sparsely. */
    static void setLength(Path file, long length) {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path copy(Path source, Path target) {
        try {
            return Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- header extensions

    record Extension(int type, byte[] data) {
        static Extension backingFormat(String name) {
            return new Extension(EXT_BACKING_FORMAT, name.getBytes(StandardCharsets.US_ASCII));
        }
    }

    /** Start of the extension area: {@code header_length} for v3, 72 for v2. */
    static int extensionStart(Path image) {
        int version = getInt(image, 4);
        return version >= 3 ? getInt(image, 100) : 72;
    }

    /** The extensions as stored (no validation), up to the end marker or the end of the area. */
    static List<Extension> extensions(Path image) {
        int cs = 1 << getInt(image, 20);
        long backingOffset = getLong(image, 8);
        int end = backingOffset != 0 ? (int) backingOffset : cs;
        byte[] cluster = read(image, 0, cs);
        ByteBuffer b = ByteBuffer.wrap(cluster);
        List<Extension> out = new ArrayList<>();
        int pos = extensionStart(image);
        while (pos + 8 <= end) {
            int type = b.getInt(pos);
            int length = b.getInt(pos + 4);
            if (type == EXT_END || length < 0 || pos + 8 + length > end) {
                break;
            }
            byte[] data = new byte[length];
            b.get(pos + 8, data);
            out.add(new Extension(type, data));
            pos += 8 + ((length + 7) & ~7);
        }
        return out;
    }

    /**
     * Rewrites the extension area (and the backing name after it) as QEMU lays them out, without
     * any check: the point is to store what QEMU would refuse to write.
     */
    static void rewriteExtensions(Path image, List<Extension> extensions, @Nullable String backingName) {
        int cs = 1 << getInt(image, 20);
        int start = extensionStart(image);
        ByteBuffer area = ByteBuffer.allocate(cs - start);
        for (Extension e : extensions) {
            area.putInt(e.type()).putInt(e.data().length).put(e.data());
            area.position(area.position() + ((8 - (e.data().length & 7)) & 7));
        }
        area.putInt(EXT_END).putInt(0);
        long nameOffset = 0;
        int nameLength = 0;
        if (backingName != null) {
            byte[] name = backingName.getBytes(StandardCharsets.UTF_8);
            nameOffset = start + area.position();
            nameLength = name.length;
            area.put(name);
        }
        write(image, start, area.array());
        putLong(image, 8, nameOffset);
        putInt(image, 16, nameLength);
    }

    static @Nullable String backingName(Path image) {
        long offset = getLong(image, 8);
        if (offset == 0) {
            return null;
        }
        return new String(read(image, offset, getInt(image, 16)), StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- layout

    enum RegionKind {
        HEADER,
        REFCOUNT_TABLE,
        REFCOUNT_BLOCK,
        L1_TABLE,
        L2_TABLE,
        DATA,
        ZERO_ALLOC,
        COMPRESSED;

        boolean isMetadata() {
            return this != DATA && this != ZERO_ALLOC && this != COMPRESSED;
        }
    }

    /** One structure of the file: {@code [start, end)}; {@code guest} is the guest offset for data. */
    record Region(RegionKind kind, long start, long end, long guest) {
        @Override
        public String toString() {
            return kind + "[0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ")"
                    + (guest >= 0 ? " guest 0x" + Long.toHexString(guest) : "");
        }
    }

    /**
     * Where everything in a well-formed qcow2 file lives, read by the tests' own decoder (not the
     * engine's): header with extensions and backing name, refcount table and blocks, L1, L2 tables
     * and every data, zero-allocated and compressed cluster they map.
     */
    record Layout(Qcow2Surgery.Header header, long fileSize, List<Region> regions) {

        int clusterSize() {
            return header.clusterSize();
        }

        List<Region> of(RegionKind kind) {
            return regions.stream().filter(r -> r.kind() == kind).toList();
        }

        Region first(RegionKind kind) {
            return of(kind).stream()
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no " + kind + " in " + regions));
        }

        /** Guest offsets of the clusters that have a host cluster (data, compressed, zero-allocated), in order. */
        List<Long> dataGuestOffsets() {
            return regions.stream()
                    .filter(r -> !r.kind().isMetadata())
                    .map(Region::guest)
                    .sorted()
                    .toList();
        }

        /** The region a file offset falls in, for readable test names. */
        String describe(long offset) {
            for (Region r : regions) {
                if (offset >= r.start() && offset < r.end()) {
                    return "inside " + r;
                }
            }
            return offset >= fileSize ? "at the end" : "between structures";
        }
    }

    static Layout layout(Path image) {
        Qcow2Surgery.Header h = Qcow2Surgery.header(image);
        int cs = h.clusterSize();
        long fileSize = size(image);
        List<Region> regions = new ArrayList<>();
        regions.add(new Region(RegionKind.HEADER, 0, headerEnd(image), -1));
        regions.add(new Region(
                RegionKind.REFCOUNT_TABLE,
                h.refcountTableOffset(),
                h.refcountTableOffset() + (long) h.refcountTableClusters() * cs,
                -1));
        ByteBuffer reftable = ByteBuffer.wrap(read(image, h.refcountTableOffset(), h.refcountTableClusters() * cs));
        for (int i = 0; i < reftable.capacity() / 8; i++) {
            long block = reftable.getLong(i * 8) & Qcow2Surgery.REFT_OFFSET_MASK;
            if (block != 0) {
                regions.add(new Region(RegionKind.REFCOUNT_BLOCK, block, block + cs, -1));
            }
        }
        regions.add(new Region(RegionKind.L1_TABLE, h.l1TableOffset(), h.l1TableOffset() + h.l1Size() * 8L, -1));
        ByteBuffer l1 = ByteBuffer.wrap(read(image, h.l1TableOffset(), h.l1Size() * 8));
        int l2Entries = cs / 8;
        for (int i = 0; i < h.l1Size(); i++) {
            long l2 = l1.getLong(i * 8) & Qcow2Surgery.L1E_OFFSET_MASK;
            if (l2 == 0) {
                continue;
            }
            regions.add(new Region(RegionKind.L2_TABLE, l2, l2 + cs, -1));
            ByteBuffer table = ByteBuffer.wrap(read(image, l2, cs));
            for (int j = 0; j < l2Entries; j++) {
                long entry = table.getLong(j * 8);
                long guest = ((long) i * l2Entries + j) * cs;
                if ((entry & Qcow2Surgery.OFLAG_COMPRESSED) != 0) {
                    long host = compressedHost(entry, h.clusterBits());
                    regions.add(new Region(
                            RegionKind.COMPRESSED, host, host + compressedLimit(entry, h.clusterBits()), guest));
                    continue;
                }
                long host = entry & Qcow2Surgery.L2E_OFFSET_MASK;
                if (host == 0) {
                    continue;
                }
                RegionKind kind = (entry & Qcow2Surgery.OFLAG_ZERO) != 0 ? RegionKind.ZERO_ALLOC : RegionKind.DATA;
                regions.add(new Region(kind, host, host + cs, guest));
            }
        }
        return new Layout(h, fileSize, List.copyOf(regions));
    }

    static long compressedHost(long entry, int clusterBits) {
        int x = 62 - (clusterBits - 8);
        return entry & ((1L << x) - 1);
    }

    static int compressedLimit(long entry, int clusterBits) {
        int x = 62 - (clusterBits - 8);
        long extra = (entry >>> x) & ((1L << (clusterBits - 8)) - 1);
        return (int) ((extra + 1) * 512 - (compressedHost(entry, clusterBits) & 511));
    }

    /** End of cluster 0's meaningful bytes: extensions, end marker and backing name. */
    private static long headerEnd(Path image) {
        int start = extensionStart(image);
        long end = start;
        for (Extension e : extensions(image)) {
            end += 8 + ((e.data().length + 7) & ~7);
        }
        end += 8;
        long backingOffset = getLong(image, 8);
        if (backingOffset != 0) {
            end = Math.max(end, backingOffset + getInt(image, 16));
        }
        return end;
    }
}
