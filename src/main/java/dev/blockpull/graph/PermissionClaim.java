package dev.blockpull.graph;

import java.util.Set;

/**
 * Permissions one holder has taken on one node, and what it lets others have. Release it when
 * done; releasing twice is harmless.
 *
 * @param role what the holder uses the node as, e.g. {@code intermediate node}
 */
public record PermissionClaim(
        BlockNode node, Holder holder, String role, Set<Permission> takes, Set<Permission> shares) {

    public void release() {
        node.permissions().release(this);
    }
}
