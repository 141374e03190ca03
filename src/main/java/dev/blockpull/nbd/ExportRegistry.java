package dev.blockpull.nbd;

import dev.blockpull.graph.Attachment;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.Holder;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.graph.Permission;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exports (QMP's block-export-add / query-block-exports / block-export-del). An export
 * attaches to its node with {@code queueWhileDrained = true}: its requests count as the node's
 * in-flight I/O and wait while the node is drained, and the attachment (listed in the node's
 * {@code usedBy}) keeps the node from being deleted. Removal drains the export's requests first,
 * then disconnects its clients, then detaches.
 */
public final class ExportRegistry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ExportRegistry.class);

    private final NodeGraph graph;
    private final Map<String, NbdExport> exports = new ConcurrentHashMap<>();

    public ExportRegistry(NodeGraph graph) {
        this.graph = graph;
    }

    /** Exports {@code nodeName} as {@code id} to every client. */
    public NbdExport add(String id, String nodeName, boolean writable) {
        return add(id, nodeName, writable, List.of());
    }

    /**
     * Exports {@code nodeName} as {@code id}; with {@code allowedClientSubjects}, only to clients
     * whose verified TLS certificate has one of these subjects (QEMU's tls-authz, per export).
     *
     * @param allowedClientSubjects distinguished names as RFC 4514 writes them ({@code CN=vm1,O=Example})
     * @throws BlockException CONFLICT when the id is in use, NOT_FOUND for an unknown node,
     *                        READ_ONLY for a writable export of a read-only node, INVALID_ARGUMENT
     *                        for a subject that is not a distinguished name
     */
    public synchronized NbdExport add(
            String id, String nodeName, boolean writable, List<String> allowedClientSubjects) {
        List<X500Principal> subjects = subjects(allowedClientSubjects);
        if (id.isEmpty() || id.getBytes(StandardCharsets.UTF_8).length > NbdProtocol.MAX_STRING) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Export id must be 1 to " + NbdProtocol.MAX_STRING + " bytes long");
        }
        if (exports.containsKey(id)) {
            throw new BlockException(
                    BlockErrorKind.CONFLICT,
                    "Block export id '" + id + "' is already in use; delete it first or choose another id");
        }
        BlockNode node = graph.get(nodeName);
        if (writable && node.isReadOnly()) {
            throw new BlockException(
                    BlockErrorKind.READ_ONLY,
                    "Cannot export node '" + nodeName
                            + "' writable: Block node is read-only; export it with writable=false");
        }
        // QEMU's block exports take what they use and share everything (blk_new(ctx, perm, BLK_PERM_ALL)),
        // so a stream job can still take its own permissions on the node.
        Set<Permission> takes = writable
                ? EnumSet.of(Permission.CONSISTENT_READ, Permission.WRITE)
                : EnumSet.of(Permission.CONSISTENT_READ);
        Attachment a = graph.attach(Holder.export(id), node, true, takes, EnumSet.allOf(Permission.class));
        NbdExport export = new NbdExport(id, nodeName, writable, subjects, a);
        exports.put(id, export);
        log.info("Exporting node {} as '{}' ({})", nodeName, id, writable ? "writable" : "read-only");
        return export;
    }

    private static List<X500Principal> subjects(List<String> names) {
        List<X500Principal> subjects = new ArrayList<>();
        for (String name : names) {
            if (name.isBlank()) {
                throw new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "An allowed client subject must not be empty; give a distinguished name such as CN=vm1,O=Example");
            }
            try {
                subjects.add(new X500Principal(name));
            } catch (IllegalArgumentException e) {
                throw new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "'" + name + "' is not a distinguished name"
                                + " (write it as openssl x509 -noout -subject -nameopt RFC2253 prints it, e.g. CN=vm1,O=Example)");
            }
        }
        return subjects;
    }

    public Optional<NbdExport> find(String id) {
        return Optional.ofNullable(exports.get(id));
    }

    /** @throws BlockException NOT_FOUND */
    public NbdExport get(String id) {
        NbdExport e = exports.get(id);
        if (e == null) {
            throw notFound(id);
        }
        return e;
    }

    /** Every export, sorted by id. */
    public List<NbdExport> list() {
        List<NbdExport> all = new ArrayList<>(exports.values());
        all.sort(Comparator.comparing(NbdExport::id));
        return all;
    }

    /**
     * Removes an export: new clients and requests are refused at once, the requests in flight
     * finish (at most {@code maxWait}), then its clients are disconnected and the node is released.
     */
    public void remove(String id, Duration maxWait) {
        NbdExport export;
        synchronized (this) {
            export = exports.remove(id);
        }
        if (export == null) {
            throw notFound(id);
        }
        close(export, maxWait);
    }

    private static void close(NbdExport export, Duration maxWait) {
        List<NbdConnection> clients = export.beginClose();
        if (!export.awaitIdle(maxWait)) {
            log.warn(
                    "Export '{}' still had {} requests in flight after {}; disconnecting its clients anyway",
                    export.id(),
                    export.inFlightRequests(),
                    maxWait);
        }
        for (NbdConnection c : clients) {
            c.close();
        }
        export.attachment().close();
        log.info("Removed export '{}' of node {}", export.id(), export.nodeName());
    }

    /** The one export a client asking for the empty (default) name gets, if there is exactly one. */
    @Nullable
    NbdExport lookup(String name) {
        if (name.isEmpty()) {
            List<NbdExport> all = list();
            return all.size() == 1 ? all.get(0) : null;
        }
        return exports.get(name);
    }

    /** Removes every export (service shutdown). */
    @Override
    public void close() {
        List<NbdExport> all;
        synchronized (this) {
            all = list();
            exports.clear();
        }
        for (NbdExport e : all) {
            close(e, Duration.ofSeconds(30));
        }
    }

    private static BlockException notFound(String id) {
        return new BlockException(BlockErrorKind.NOT_FOUND, "Export '" + id + "' not found");
    }
}
