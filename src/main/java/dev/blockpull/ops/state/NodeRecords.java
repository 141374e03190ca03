package dev.blockpull.ops.state;

import dev.blockpull.graph.Driver;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.ops.state.ServiceState.NodeRecord;
import org.jspecify.annotations.Nullable;

/** {@link NodeDefinition} to and from its record in the state file. */
final class NodeRecords {

    private NodeRecords() {}

    /** The record, or null for a definition with a blkdebug filter (debug aids are not restored). */
    static @Nullable NodeRecord of(NodeDefinition d) {
        String backing;
        String backingNode = null;
        NodeRecord nested = null;
        if (d.backing() instanceof NodeDefinition.FromHeader) {
            backing = "header";
        } else if (d.backing() instanceof NodeDefinition.NoBacking) {
            backing = "none";
        } else if (d.backing() instanceof NodeDefinition.Existing e) {
            backing = "node";
            backingNode = e.nodeName();
        } else if (d.backing() instanceof NodeDefinition.Nested n) {
            backing = "nested";
            nested = of(n.definition());
            if (nested == null) {
                return null;
            }
        } else {
            return null;
        }
        return new NodeRecord(
                d.nodeName(),
                d.driver().id(),
                d.file().filename(),
                d.file().readOnly(),
                backing,
                backingNode,
                nested,
                d.readOnly());
    }

    static NodeDefinition definition(NodeRecord r) {
        NodeDefinition.BackingDefinition backing = switch (r.backing()) {
            case "header" -> new NodeDefinition.FromHeader();
            case "none" -> new NodeDefinition.NoBacking();
            case "node" -> new NodeDefinition.Existing(required(r.backingNode(), "backingNode"));
            case "nested" -> new NodeDefinition.Nested(definition(required(r.nested(), "nested")));
            default -> throw new IllegalArgumentException("Unknown backing kind '" + r.backing() + "'");
        };
        return new NodeDefinition(
                r.nodeName(),
                Driver.parseFormat(r.driver()),
                new NodeDefinition.FileDefinition(r.file(), r.fileReadOnly()),
                backing,
                r.readOnly());
    }

    private static <T> T required(@Nullable T value, String member) {
        if (value == null) {
            throw new IllegalArgumentException("Node record without '" + member + "'");
        }
        return value;
    }
}
