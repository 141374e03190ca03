package dev.blockpull.graph;

/** What a link from a parent to a child means (stream-semantics §1.2). */
public enum ChildRole {
    /** Where a format node's image is stored; not part of the backing chain. */
    FILE("file"),
    /** The COW child: unallocated ranges read through to it. */
    BACKING("backing"),
    /** The one child of a filter. QEMU names the copy-on-read filter's child 'file'. */
    FILTERED("file");

    private final String linkName;

    ChildRole(String linkName) {
        this.linkName = linkName;
    }

    /** The name QEMU uses for the link in its messages, e.g. {@code 'backing'}. */
    public String linkName() {
        return linkName;
    }
}
