package dev.blockpull.graph;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** What draining a node covers: the node, every node above it (their requests descend into it) and every node below it. */
final class DrainScope {

    private DrainScope() {}

    static Set<BlockNode> of(BlockNode node) {
        Set<BlockNode> scope = new LinkedHashSet<>();
        Deque<BlockNode> up = new ArrayDeque<>(List.of(node));
        while (!up.isEmpty()) {
            BlockNode n = up.pop();
            if (scope.add(n)) {
                n.parentLinks().forEach(l -> up.push(l.parent()));
            }
        }
        Deque<BlockNode> down = new ArrayDeque<>(List.of(node));
        while (!down.isEmpty()) {
            BlockNode n = down.pop();
            for (Link l : n.children()) {
                BlockNode c = l.child();
                if (c != null && scope.add(c)) {
                    down.push(c);
                }
            }
        }
        return scope;
    }
}
