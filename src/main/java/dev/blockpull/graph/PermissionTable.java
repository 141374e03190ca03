package dev.blockpull.graph;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The claims on one node. A new claim conflicts when it takes what an existing claim does not
 * share, or does not share what an existing claim takes; the error is QEMU's (6.0 and later).
 */
public final class PermissionTable {

    private final BlockNode node;
    private final List<PermissionClaim> claims = new ArrayList<>();

    PermissionTable(BlockNode node) {
        this.node = node;
    }

    /**
     * Takes {@code takes} on the node and lets others have {@code shares}.
     *
     * @throws PermissionConflictException naming the node, the permissions and both users
     */
    public synchronized PermissionClaim claim(
            Holder holder, String role, Set<Permission> takes, Set<Permission> shares) {
        for (PermissionClaim other : claims) {
            Set<Permission> clash = minus(takes, other.shares());
            if (!clash.isEmpty()) {
                throw conflict(clash, holder, role, other.holder(), other.role());
            }
            clash = minus(other.takes(), shares);
            if (!clash.isEmpty()) {
                throw conflict(clash, other.holder(), other.role(), holder, role);
            }
        }
        PermissionClaim claim = new PermissionClaim(node, holder, role, Set.copyOf(takes), Set.copyOf(shares));
        claims.add(claim);
        return claim;
    }

    synchronized void release(PermissionClaim claim) {
        claims.removeIf(c -> c == claim);
    }

    /** Whether a new user could take {@code permission}: no claim withholds it. */
    public synchronized boolean allows(Permission permission) {
        return claims.stream().allMatch(c -> c.shares().contains(permission));
    }

    /** Throws the conflict a new user taking {@code permission} would meet. */
    public synchronized void checkAllowed(Permission permission, Holder user, String role) {
        for (PermissionClaim other : claims) {
            if (!other.shares().contains(permission)) {
                throw conflict(EnumSet.of(permission), user, role, other.holder(), other.role());
            }
        }
    }

    public synchronized List<PermissionClaim> claims() {
        return List.copyOf(claims);
    }

    private PermissionConflictException conflict(
            Set<Permission> perms, Holder requiredBy, String requiredAs, Holder unsharedBy, String unsharedAs) {
        String names = perms.stream().map(Permission::qemuName).collect(Collectors.joining(", "));
        String n = node.name();
        return new PermissionConflictException("Permission conflict on node '" + n + "': permissions '" + names
                + "' are both required by " + requiredBy + " (uses node '" + n + "' as '" + requiredAs
                + "' child) and unshared by " + unsharedBy + " (uses node '" + n + "' as '" + unsharedAs
                + "' child).");
    }

    private static Set<Permission> minus(Set<Permission> a, Set<Permission> b) {
        EnumSet<Permission> out = a.isEmpty() ? EnumSet.noneOf(Permission.class) : EnumSet.copyOf(a);
        out.removeAll(b);
        return out;
    }
}
