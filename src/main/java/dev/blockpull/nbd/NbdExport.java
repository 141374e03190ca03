package dev.blockpull.nbd;

import dev.blockpull.graph.Attachment;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;

/**
 * One export: an NBD name served from an {@link Attachment} of a node (QEMU's BlockExport with its
 * BlockBackend). Counts the NBD requests in flight on it, so that removing the export can drain
 * them before its clients are disconnected.
 */
public final class NbdExport {

    private final String id;
    private final String nodeName;
    private final boolean writable;
    private final Attachment attachment;
    private final List<X500Principal> allowedClientSubjects;
    private final Set<NbdConnection> clients = ConcurrentHashMap.newKeySet();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();
    private volatile boolean closing;

    NbdExport(
            String id,
            String nodeName,
            boolean writable,
            List<X500Principal> allowedClientSubjects,
            Attachment attachment) {
        this.id = id;
        this.nodeName = nodeName;
        this.writable = writable;
        this.allowedClientSubjects = List.copyOf(allowedClientSubjects);
        this.attachment = attachment;
    }

    /** The export id, which is also the NBD export name clients ask for. */
    public String id() {
        return id;
    }

    /** The node named when the export was made (a filter inserted above it later does not change this). */
    public String nodeName() {
        return nodeName;
    }

    public boolean writable() {
        return writable;
    }

    /** Subjects of the client certificates that may list and open the export; empty: any client. */
    public List<X500Principal> allowedClientSubjects() {
        return allowedClientSubjects;
    }

    /**
     * Whether a client whose verified certificate names {@code peer} (null: no certificate) may
     * see and open the export. Distinguished names compare in their canonical form, so spacing
     * and the case of attribute names do not matter.
     */
    boolean admits(@Nullable X500Principal peer) {
        return allowedClientSubjects.isEmpty() || (peer != null && allowedClientSubjects.contains(peer));
    }

    Attachment attachment() {
        return attachment;
    }

    /** Guest size in bytes, as clients see it. */
    public long size() {
        return attachment.length();
    }

    /** Connected clients (in transmission phase). */
    public int clientCount() {
        return clients.size();
    }

    /** NBD requests being processed now. */
    public int inFlightRequests() {
        return Math.max(0, inFlight.get());
    }

    public boolean isClosing() {
        return closing;
    }

    String description() {
        return "node '" + nodeName + "'" + (writable ? "" : " (read-only)");
    }

    // ------------------------------------------------------------------ clients

    /** Adds a client; false when the export is being removed. */
    boolean addClient(NbdConnection c) {
        lock.lock();
        try {
            if (closing) {
                return false;
            }
            clients.add(c);
            return true;
        } finally {
            lock.unlock();
        }
    }

    void removeClient(NbdConnection c) {
        clients.remove(c);
    }

    // ------------------------------------------------------------------ requests

    /** A request starts; false (nothing counted) when the export is being removed. */
    boolean begin() {
        inFlight.incrementAndGet();
        if (closing) {
            end();
            return false;
        }
        return true;
    }

    void end() {
        if (inFlight.decrementAndGet() == 0 && closing) {
            lock.lock();
            try {
                idle.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Stops admitting clients and requests; returns the clients to disconnect once idle. */
    List<NbdConnection> beginClose() {
        lock.lock();
        try {
            closing = true;
            return List.copyOf(clients);
        } finally {
            lock.unlock();
        }
    }

    /** Waits until no request is in flight; false when {@code maxWait} passed first. */
    boolean awaitIdle(Duration maxWait) {
        long deadline = System.nanoTime() + maxWait.toNanos();
        lock.lock();
        try {
            while (inFlight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                // re-check now and then: the last end() may have signalled before we waited
                idle.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "export '" + id + "' of " + description();
    }
}
