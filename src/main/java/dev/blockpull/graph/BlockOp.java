package dev.blockpull.graph;

/** Operations a job can block on the nodes it uses (QEMU's BLOCK_OP_TYPE_*). */
public enum BlockOp {
    STREAM,
    COMMIT,
    MIRROR,
    BACKUP,
    EXTERNAL_SNAPSHOT,
    CHANGE_BACKING_FILE,
    DELETE,
    RESIZE,
    EJECT,
    EXPORT
}
