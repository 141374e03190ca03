package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The data of NBD_OPT_LIST_META_CONTEXT or NBD_OPT_SET_META_CONTEXT: an export name and the
 * queries for metadata contexts.
 */
record MetaContextRequest(String exportName, List<String> queries) {

    /** The request in {@code data}; null when the data is malformed. */
    static @Nullable MetaContextRequest parse(ByteBuffer data) {
        if (data.remaining() < 8) {
            return null;
        }
        int nameLength = data.getInt();
        if (nameLength < 0 || nameLength > data.remaining() - 4) {
            return null;
        }
        String name = NbdStrings.read(data, nameLength);
        long count = Integer.toUnsignedLong(data.getInt());
        List<String> queries = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            if (data.remaining() < 4) {
                return null;
            }
            int len = data.getInt();
            if (len < 0 || len > data.remaining() || len > MAX_STRING) {
                return null;
            }
            String q = NbdStrings.read(data, len);
            if (q == null) {
                return null;
            }
            queries.add(q);
        }
        return data.hasRemaining() || name == null ? null : new MetaContextRequest(name, queries);
    }

    /**
     * The contexts of this server the queries select. Listing ({@code set} false) also takes no
     * query, or a namespace alone ("base:", "qemu:"), as asking for all of it.
     */
    Set<String> matched(boolean set) {
        Set<String> matched = new LinkedHashSet<>();
        if (queries.isEmpty() && !set) {
            matched.add(CONTEXT_BASE_ALLOCATION);
            matched.add(CONTEXT_ALLOCATION_DEPTH);
        }
        for (String q : queries) {
            if (q.equals(CONTEXT_BASE_ALLOCATION) || (!set && q.equals("base:"))) {
                matched.add(CONTEXT_BASE_ALLOCATION);
            } else if (q.equals(CONTEXT_ALLOCATION_DEPTH) || (!set && q.equals("qemu:"))) {
                matched.add(CONTEXT_ALLOCATION_DEPTH);
            }
        }
        return matched;
    }

    /** The data of NBD_REP_META_CONTEXT for a context this server offers: its id and name. */
    static ByteBuffer replyData(String context) {
        int id = context.equals(CONTEXT_BASE_ALLOCATION) ? CONTEXT_ID_BASE_ALLOCATION : CONTEXT_ID_ALLOCATION_DEPTH;
        byte[] name = context.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + name.length).putInt(id).put(name).flip();
    }
}
