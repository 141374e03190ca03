package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The nodes of the graph by name; implicit nodes get generated {@code #block...} names. */
final class NodeRegistry {

    private final Map<String, BlockNode> nodes = new ConcurrentHashMap<>();
    private final AtomicLong generated = new AtomicLong();

    Optional<BlockNode> find(String name) {
        return Optional.ofNullable(nodes.get(name));
    }

    /** @throws NodeNotFoundException with blockdev-del's wording */
    BlockNode get(String name) {
        BlockNode n = nodes.get(name);
        if (n == null) {
            throw NodeNotFoundException.of(name);
        }
        return n;
    }

    /** Every node, sorted by name (generated {@code #block...} names first). */
    List<BlockNode> sorted() {
        List<BlockNode> all = new ArrayList<>(nodes.values());
        all.sort(Comparator.comparing(BlockNode::name));
        return all;
    }

    Collection<BlockNode> all() {
        return nodes.values();
    }

    void add(BlockNode node) {
        nodes.put(node.name(), node);
    }

    void remove(BlockNode node) {
        nodes.remove(node.name());
    }

    void clear() {
        nodes.clear();
    }

    /** A user-given name for a new node: well-formed, short enough, and not taken. */
    void checkNewName(String name) {
        NodeName.check(name);
        if (nodes.containsKey(name)) {
            throw duplicate(name);
        }
    }

    String generateName() {
        while (true) {
            String name = NodeName.GENERATED_PREFIX + String.format("%03d", generated.incrementAndGet());
            if (!nodes.containsKey(name)) {
                return name;
            }
        }
    }

    static BlockException duplicate(String name) {
        return new BlockException(BlockErrorKind.CONFLICT, "Duplicate nodes with node-name='" + name + "'");
    }
}
