package dev.blockpull.format.qcow2;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BlockFile;
import dev.blockpull.io.BlockIoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Lays out a fresh qcow2 image as {@code qemu-img create} does: header (with the backing format
 * extension and, for v3 with clusters over 4 KiB, the feature name table), refcount table,
 * refcount blocks, L1 table; every cluster in use counted once.
 */
public final class Qcow2Creator {

    private Qcow2Creator() {}

    public static void create(BlockFile file, CreateOptions o) {
        validate(o);
        int bits = Integer.numberOfTrailingZeros(o.clusterSize());
        int cs = o.clusterSize();
        int order = Integer.numberOfTrailingZeros(o.refcountBits());
        long l2Coverage = (long) cs * (cs / 8);
        long l1Size = (o.size() + l2Coverage - 1) / l2Coverage;
        if (l1Size * 8 > 32L * 1024 * 1024) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT, "Image size " + o.size() + " is too large for cluster size " + cs);
        }
        long l1Clusters = (l1Size * 8 + cs - 1) / cs;
        long perBlock = ((long) cs * 8) >>> order;
        long blocks = 1;
        long tableClusters = 1;
        while (true) {
            long total = 1 + tableClusters + blocks + l1Clusters;
            long needBlocks = (total + perBlock - 1) / perBlock;
            long needTable = (needBlocks * 8 + cs - 1) / cs;
            if (needBlocks == blocks && needTable == tableClusters) {
                break;
            }
            blocks = needBlocks;
            tableClusters = needTable;
        }
        long tableOffset = cs;
        long firstBlock = tableOffset + tableClusters * cs;
        long l1Offset = firstBlock + blocks * cs;
        long total = 1 + tableClusters + blocks + l1Clusters;

        Qcow2Header header =
                header(o, bits, order, (int) l1Size, l1Size == 0 ? 0 : l1Offset, tableOffset, (int) tableClusters);
        try {
            write(file, HeaderEncoder.encode(header), 0);
            ByteBuffer table = ByteBuffer.allocate((int) (tableClusters * cs));
            for (int b = 0; b < blocks; b++) {
                table.putLong(firstBlock + (long) b * cs);
            }
            write(file, table.clear(), tableOffset);
            for (int b = 0; b < blocks; b++) {
                RefcountBlock block = new RefcountBlock(firstBlock + (long) b * cs, new byte[cs], order);
                for (long c = b * perBlock; c < Math.min(total, (b + 1) * perBlock); c++) {
                    block.set((int) (c - b * perBlock), 1);
                }
                write(file, ByteBuffer.wrap(block.bytes()), block.offset());
            }
            if (l1Size > 0) {
                write(file, ByteBuffer.allocate((int) (l1Size * 8)), l1Offset);
            }
            file.force(true);
        } catch (IOException e) {
            throw new BlockIoException("Could not create " + file.path() + ": " + e.getMessage(), e);
        }
    }

    private static void write(BlockFile file, ByteBuffer buf, long offset) throws IOException {
        file.write(buf, offset);
    }

    private static Qcow2Header header(
            CreateOptions o, int bits, int order, int l1Size, long l1Offset, long tableOffset, int tableClusters) {
        List<HeaderExtension> exts = new ArrayList<>();
        if (o.compatV3() && o.clusterSize() > 4096) {
            exts.add(new HeaderExtension(HeaderExtension.FEATURE_TABLE, FeatureBits.qemuFeatureTable()));
        }
        BackingReference b = o.backing();
        String backingFile = b == null ? null : b.fileName();
        String backingFormat =
                b == null || b.format() == null ? null : b.format().id();
        return new Qcow2Header.Builder()
                .version(o.compatV3() ? 3 : 2)
                .clusterBits(bits)
                .size(o.size())
                .l1(l1Size, l1Offset)
                .refcountTable(tableOffset, tableClusters)
                .compatibleFeatures(o.lazyRefcounts() ? FeatureBits.COMPAT_LAZY_REFCOUNTS : 0)
                .refcountOrder(order)
                .headerLength(o.compatV3() ? HeaderLayout.V3_HEADER_LENGTH : HeaderLayout.V2_HEADER_LENGTH)
                .extensions(exts)
                .backingFile(backingFile)
                .backingFormat(backingFormat)
                .build();
    }

    private static void validate(CreateOptions o) {
        int cs = o.clusterSize();
        if (Integer.bitCount(cs) != 1 || cs < 512 || cs > 2 * 1024 * 1024) {
            throw invalid("Cluster size must be a power of 2 between 512 and 2M");
        }
        int rb = o.refcountBits();
        if (Integer.bitCount(rb) != 1 || rb > 64) {
            throw invalid("Refcount width must be a power of two and may not exceed 64 bits");
        }
        if (!o.compatV3() && rb != 16) {
            throw invalid("Different refcount widths than 16 bits require compatibility level 1.1 or above "
                    + "(use compat=1.1 or greater)");
        }
        if (!o.compatV3() && o.lazyRefcounts()) {
            throw invalid("Lazy refcounts only supported with compatibility level 1.1 and above "
                    + "(use compat=1.1 or greater)");
        }
        if (o.size() < 0) {
            throw invalid("Image size must be a non-negative number of bytes");
        }
        if (o.size() % 512 != 0) {
            throw invalid("Image size must be a multiple of 512 bytes");
        }
        BackingReference b = o.backing();
        if (b != null) {
            if (b.fileName().getBytes(StandardCharsets.UTF_8).length > HeaderLayout.MAX_BACKING_NAME) {
                throw invalid("Backing file name too long (at most 1023 bytes)");
            }
            if (b.fileName().chars().anyMatch(ch -> ch < 0x20 || ch == 0x7F)) {
                throw invalid("Backing file name contains control characters");
            }
        }
    }

    private static BlockException invalid(String message) {
        return new BlockException(BlockErrorKind.INVALID_ARGUMENT, message);
    }
}
