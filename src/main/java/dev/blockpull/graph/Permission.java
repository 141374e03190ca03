package dev.blockpull.graph;

/** QEMU's node permissions (BLK_PERM_*), by the names its conflict messages use. */
public enum Permission {
    CONSISTENT_READ("consistent read"),
    WRITE("write"),
    WRITE_UNCHANGED("write unchanged"),
    RESIZE("resize"),
    GRAPH_MOD("change children");

    private final String qemuName;

    Permission(String qemuName) {
        this.qemuName = qemuName;
    }

    public String qemuName() {
        return qemuName;
    }
}
