package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.STATE_HOLE;
import static dev.blockpull.nbd.NbdProtocol.STATE_ZERO;

import dev.blockpull.format.ChainExtent;
import dev.blockpull.format.ExtentKind;
import java.util.ArrayList;
import java.util.List;

/**
 * One block status descriptor of a meta context: a length and its flags.
 *
 * @param length may exceed 32 bits (merged extents); the wire takes at most 4 GiB - 1 of it
 */
record StatusDescriptor(long length, int flags) {

    /** Most descriptors one block status reply carries; the client asks again for the rest. */
    static final int MAX_DESCRIPTORS = 1 << 16;

    /** The length as the wire's unsigned 32 bits, capped. */
    int wireLength() {
        return (int) Math.min(length, 0xFFFFFFFFL);
    }

    /**
     * The descriptors of {@code extents}, neighbours with equal flags merged: of
     * qemu:allocation-depth when {@code depth}, else of base:allocation; only the first with
     * {@code reqOne} (NBD_CMD_FLAG_REQ_ONE).
     */
    static List<StatusDescriptor> of(List<ChainExtent> extents, boolean depth, boolean reqOne) {
        List<StatusDescriptor> out = new ArrayList<>();
        boolean pending = false;
        long length = 0;
        int flags = 0;
        for (ChainExtent e : extents) {
            int f = flags(e, depth);
            if (pending && f == flags) {
                length += e.length();
                continue;
            }
            if (pending) {
                out.add(new StatusDescriptor(length, flags));
                pending = false;
                if (out.size() == MAX_DESCRIPTORS || reqOne) {
                    break;
                }
            }
            pending = true;
            length = e.length();
            flags = f;
        }
        if (pending) {
            out.add(new StatusDescriptor(length, flags));
        }
        return out;
    }

    private static int flags(ChainExtent e, boolean depth) {
        if (depth) {
            return e.kind() == ExtentKind.UNALLOCATED ? 0 : e.depth() + 1;
        }
        return e.kind() == ExtentKind.DATA ? 0 : STATE_HOLE | STATE_ZERO;
    }
}
