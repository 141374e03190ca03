package dev.blockpull.io;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service's own threads: daemons (a thread stuck in I/O never holds the JVM at exit), named
 * by what they do, at one of two priorities. Data-path threads (stream jobs and their copies,
 * NBD connections and workers) run below everything else, so that on a saturated CPU a status
 * request, an event or a health probe is not queued behind bulk I/O. The JVM passes a thread's
 * priority on to Linux as its nice value only with {@code -XX:ThreadPriorityPolicy=1} (in the
 * shipped JVM options; lowering needs no privilege): {@link Thread#MIN_PRIORITY} is nice 4, or
 * nice 10 with the shipped {@code -XX:JavaPriority1_To_OSPriority=10}.
 *
 * <p>A thread inherits its creator's nice value and, without privilege, cannot go back down, so a
 * normal thread that a pool makes lazily on a data-path thread's call (an event, a timer) would
 * run at the data path's nice. Such a thread is started by a normal-priority starter thread
 * instead, made when this class is first used (at start-up, by the first pool built): a thread's
 * priority is the one its factory says wherever it is started from.
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
        Thread t = priority == Thread.MIN_PRIORITY ? new Thread(task, name) : new StartedAboveDataPath(task, name);
        t.setDaemon(true);
        t.setPriority(priority);
        return t;
    }

    /** Starts itself on {@link #STARTER} when the thread calling {@link #start} runs below it. */
    private static final class StartedAboveDataPath extends Thread {

        StartedAboveDataPath(Runnable task, String name) {
            super(task, name);
        }

        // Not synchronized, unlike Thread.start: the starter thread takes that monitor.
        @Override
        public void start() {
            if (Thread.currentThread().getPriority() >= getPriority()) {
                super.start();
            } else {
                startOnStarter(super::start);
            }
        }
    }

    /** The normal-priority thread that starts normal threads for data-path callers. */
    private static final ThreadPoolExecutor STARTER = starter();

    private static ThreadPoolExecutor starter() {
        ThreadPoolExecutor starter =
                new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), task -> {
                    Thread t = new Thread(task, "blockpull-thread-starter");
                    t.setDaemon(true);
                    return t;
                });
        starter.prestartCoreThread();
        return starter;
    }

    /** Runs {@code start} on the starter and returns once it has, with whatever it threw. */
    private static void startOnStarter(Runnable start) {
        Future<?> started = STARTER.submit(start);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    started.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true; // the thread is being started: wait for it, keep the interrupt
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException runtime) {
                        throw runtime;
                    }
                    throw (Error) e.getCause();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
