package dev.blockpull.graph;

/** The three kinds of nodes of stream-semantics §1.1. */
public enum NodeKind {
    /** Talks to storage; holds bytes, knows nothing about images. */
    PROTOCOL,
    /** Interprets an image format through its file child; may have a COW (backing) child. */
    FORMAT,
    /** Passes every request to its one filtered child, adding behaviour; stores nothing. */
    FILTER
}
