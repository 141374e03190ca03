package dev.blockpull.format.qcow2;

/** One header extension as found on disk; unknown types are carried verbatim. */
record HeaderExtension(int type, byte[] data) {

    static final int END = 0;
    static final int BACKING_FORMAT = 0xE2792ACA;
    static final int FEATURE_TABLE = 0x6803F857;
    static final int BITMAPS = 0x23852875;
    static final int CRYPTO = 0x0537BE77;
    static final int DATA_FILE = 0x44415441;

    /** Bytes this extension takes in cluster 0, padding included. */
    int encodedLength() {
        return 8 + ((data.length + 7) & ~7);
    }
}
