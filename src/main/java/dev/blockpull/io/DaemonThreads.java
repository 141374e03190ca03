package dev.blockpull.io;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service's own threads: daemons (a thread stuck in I/O never holds the JVM at exit), named
 * by what they do, at one of two priorities. Data-path threads (stream jobs and their copies,
 * NBD connections and workers) run below everything else, so that on a saturated CPU a status
 * request, an event or a health probe is not queued behind bulk I/O. The JVM passes a thread's
 * priority on to Linux as its nice value only with {@code -XX:ThreadPriorityPolicy=1} (in the
 * shipped JVM options; lowering needs no privilege): {@link Thread#MIN_PRIORITY} is nice 4.
 *
 * <p>A thread inherits its creator's nice value and, without privilege, cannot go back down:
 * pools that make threads lazily on other threads' calls take theirs from this factory, so a
 * thread's priority is the one its factory says wherever it is started from.
 */
public final class DaemonThreads implements ThreadFactory {

    private final String prefix;
    private final int priority;
    private final AtomicInteger counter = new AtomicInteger();

    private DaemonThreads(String prefix, int priority) {
        this.prefix = prefix;
        this.priority = priority;
    }

    /** Threads {@code prefix1, prefix2, ...} at normal priority. */
    public static DaemonThreads named(String prefix) {
        return new DaemonThreads(prefix, Thread.NORM_PRIORITY);
    }

    /** Threads {@code prefix1, prefix2, ...} of the data path, below the request threads. */
    public static DaemonThreads dataPath(String prefix) {
        return new DaemonThreads(prefix, Thread.MIN_PRIORITY);
    }

    @Override
    public Thread newThread(Runnable task) {
        return newThread(task, prefix + counter.incrementAndGet());
    }

    /** A thread of this kind with a name of its own (a job's id, a connection's number). */
    public Thread newThread(Runnable task, String name) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.setPriority(priority);
        return t;
    }
}
