package dev.blockpull.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A hostile process in the data root, as a thread: it swaps what a name means as fast as it can,
 * each swap an atomic rename over the name, until closed. Closing stops it and rethrows what
 * made it fail, if anything did.
 */
public final class Swapper implements AutoCloseable {

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong swaps = new AtomicLong();
    private final Thread thread;

    private Swapper(String name, SwapStep first, SwapStep second) {
        thread = new Thread(
                () -> {
                    try {
                        while (!stop.get()) {
                            first.run();
                            second.run();
                            swaps.addAndGet(2);
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                },
                "swapper-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    /** {@code name} is in turn a hard link of {@code inside} (a regular file) and a symlink to {@code target}. */
    public static Swapper fileAndSymlink(Path name, Path inside, Path target) {
        Path tmpLink = name.resolveSibling(name.getFileName() + ".swap-link");
        Path tmpFile = name.resolveSibling(name.getFileName() + ".swap-file");
        return new Swapper(
                name.getFileName().toString(),
                () -> {
                    Files.createSymbolicLink(tmpLink, target);
                    Files.move(tmpLink, name, StandardCopyOption.ATOMIC_MOVE);
                },
                () -> {
                    Files.createLink(tmpFile, inside);
                    Files.move(tmpFile, name, StandardCopyOption.ATOMIC_MOVE);
                });
    }

    /** {@code name} is a symlink that points in turn to {@code a} and to {@code b}. */
    public static Swapper symlinkTargets(Path name, Path a, Path b) {
        Path tmp = name.resolveSibling(name.getFileName() + ".swap");
        return new Swapper(
                name.getFileName().toString(),
                () -> {
                    Files.createSymbolicLink(tmp, a);
                    Files.move(tmp, name, StandardCopyOption.ATOMIC_MOVE);
                },
                () -> {
                    Files.createSymbolicLink(tmp, b);
                    Files.move(tmp, name, StandardCopyOption.ATOMIC_MOVE);
                });
    }

    /** How many swaps were made so far. */
    public long swaps() {
        return swaps.get();
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        thread.join();
        Throwable t = failure.get();
        if (t != null) {
            throw new AssertionError("the swapper failed", t);
        }
    }

    @FunctionalInterface
    private interface SwapStep {
        void run() throws IOException;
    }
}
