package dev.blockpull.format.qcow2;

/** qcow2 feature bits (qcow2-notes §3). */
final class FeatureBits {

    static final long INCOMPAT_DIRTY = 1L;
    static final long INCOMPAT_CORRUPT = 1L << 1;
    static final long INCOMPAT_DATA_FILE = 1L << 2;
    static final long INCOMPAT_COMPRESSION = 1L << 3;
    static final long INCOMPAT_EXTENDED_L2 = 1L << 4;
    static final long INCOMPAT_KNOWN = 0x1FL;

    static final long COMPAT_LAZY_REFCOUNTS = 1L;

    static final long AUTOCLEAR_BITMAPS = 1L;
    static final long AUTOCLEAR_RAW_DATA = 1L << 1;

    private FeatureBits() {}

    /** The feature name table QEMU writes for v3 images with clusters over 4 KiB: 8 entries. */
    static byte[] qemuFeatureTable() {
        String[][] rows = {
            {"0", "0", "dirty bit"}, {"0", "1", "corrupt bit"}, {"0", "2", "external data file"},
            {"0", "3", "compression type"}, {"0", "4", "extended L2 entries"}, {"1", "0", "lazy refcounts"},
            {"2", "0", "bitmaps"}, {"2", "1", "raw external data"},
        };
        byte[] table = new byte[rows.length * 48];
        for (int i = 0; i < rows.length; i++) {
            table[i * 48] = (byte) Integer.parseInt(rows[i][0]);
            table[i * 48 + 1] = (byte) Integer.parseInt(rows[i][1]);
            byte[] name = rows[i][2].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            System.arraycopy(name, 0, table, i * 48 + 2, name.length);
        }
        return table;
    }
}
