package dev.blockpull.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Opens and creates files beneath the data root in one step, as Linux's openat2 with
 * RESOLVE_IN_ROOT would, in plain Java: the walk starts at an open descriptor of the root and
 * goes one name at a time through {@link SecureDirectoryStream} (openat, fstatat, renameat on
 * the directory descriptor), each name opened with O_NOFOLLOW. A symbolic link on the way is
 * read and followed here, not by the kernel, and only if its target stays inside the root; the
 * walk then starts again from the root's descriptor. So whatever is swapped into the root while
 * a name is being opened, the file opened is one that lies beneath the root: a name checked is
 * the name opened.
 *
 * <p>Java has no mkdirat: a missing directory is made in the root itself (whose own path no API
 * user controls) under a random name and moved into place with renameat.
 */
final class ConfinedFiles implements FileOpener {

    /** Linux's MAXSYMLINKS: the most links one resolution follows. */
    private static final int MAX_SYMLINKS = 40;
    /** A name swapped between its check and its open is walked again this often, then refused. */
    private static final int MAX_ATTEMPTS = 4;

    static final String STAGING_PREFIX = ".blockpull-mkdir-";

    private final Path root;
    /** The names of a directory below the root that no walk may enter (the state); empty: none. */
    private final List<String> reserved;
    /** Directory creation is check-then-rename: serialise it among our own threads. */
    private final Object mkdirLock = new Object();

    ConfinedFiles(Path root) {
        this(root, null);
    }

    /** @param reserved a directory beneath the root (real path) that no name may lead into, or null */
    ConfinedFiles(Path root, @Nullable Path reserved) {
        this.root = root;
        List<String> names = new ArrayList<>();
        if (reserved != null) {
            root.relativize(reserved).forEach(p -> names.add(p.toString()));
        }
        this.reserved = List.copyOf(names);
    }

    @Override
    public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
        for (OpenOption o : options) {
            if (o == StandardOpenOption.CREATE
                    || o == StandardOpenOption.CREATE_NEW
                    || o == StandardOpenOption.TRUNCATE_EXISTING) {
                throw new IllegalArgumentException("open() opens existing files only; use create(): " + o);
            }
        }
        return withRetries(
                path,
                false,
                true,
                (dir, at, name, attrs) -> {
                    if (attrs == null) {
                        throw new NoSuchFileException(display(at, name));
                    }
                    if (!attrs.isRegularFile()) {
                        throw refuse("'" + display(at, name) + "' is not a regular file");
                    }
                    return openFile(dir, at, name, options);
                },
                () -> PLAIN.open(path, options));
    }

    @Override
    public FileChannel create(Path path) throws IOException {
        Set<OpenOption> options =
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return withRetries(
                path,
                true,
                false,
                (dir, at, name, attrs) -> {
                    if (attrs != null) {
                        throw new FileAlreadyExistsException(display(at, name));
                    }
                    return openFile(dir, at, name, options);
                },
                () -> PLAIN.create(path));
    }

    @Override
    public boolean deleteIfExists(Path path) throws IOException {
        try {
            return withRetries(
                    path,
                    false,
                    false,
                    (dir, at, name, attrs) -> {
                        if (attrs == null) {
                            return false;
                        }
                        dir.deleteFile(
                                Path.of(name)); // unlinkat: removes the entry, whatever it is, never a link's target
                        return true;
                    },
                    () -> PLAIN.deleteIfExists(path));
        } catch (NoSuchFileException e) {
            return false; // a directory on the way is gone: so is the file
        }
    }

    @Override
    public BasicFileAttributes attributes(Path path) throws IOException {
        return withRetries(
                path,
                false,
                true,
                (dir, at, name, attrs) -> {
                    if (attrs == null) {
                        throw new NoSuchFileException(display(at, name));
                    }
                    return attrs;
                },
                () -> PLAIN.attributes(path));
    }

    /** What is done with the last name of a path, in the directory that holds it; attrs null = missing. */
    @FunctionalInterface
    private interface AtLast<T> {
        T apply(SecureDirectoryStream<Path> dir, List<String> at, String name, @Nullable BasicFileAttributes attrs)
                throws IOException;
    }

    @FunctionalInterface
    private interface Fallback<T> {
        T run() throws IOException;
    }

    private <T> T withRetries(
            Path path, boolean makeDirectories, boolean followLast, AtLast<T> action, Fallback<T> fallback)
            throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return walk(path, makeDirectories, followLast, action, fallback);
            } catch (Swapped e) {
                if (attempt == MAX_ATTEMPTS) {
                    throw new BlockException(
                            BlockErrorKind.CONFLICT,
                            "'" + e.name + "' changed while it was being "
                                    + "opened (a directory or file was replaced by a symbolic link); try again",
                            e);
                }
            }
        }
    }

    private <T> T walk(Path path, boolean makeDirectories, boolean followLast, AtLast<T> action, Fallback<T> fallback)
            throws IOException {
        Deque<String> pending = components(path);
        DirectoryStream<Path> opened = Files.newDirectoryStream(root);
        if (!(opened instanceof SecureDirectoryStream<Path> top)) {
            // no openat on this platform: the name was checked by DataRoot, which is all there is
            opened.close();
            return fallback.run();
        }
        SecureDirectoryStream<Path> dir = top;
        List<String> at = new ArrayList<>();
        int links = 0;
        try {
            while (true) {
                String name = pending.removeFirst();
                boolean last = pending.isEmpty();
                BasicFileAttributes attrs = statNoFollow(dir, name);
                // create and delete act on the last name itself (O_EXCL, unlinkat), never on a link's target
                if (attrs != null && attrs.isSymbolicLink() && !(last && !followLast)) {
                    if (++links > MAX_SYMLINKS) {
                        throw refuse("'" + display(at, name) + "' leads through too many symbolic links");
                    }
                    Deque<String> target = components(linkTarget(at, name));
                    target.addAll(pending);
                    pending = target;
                    closeUnlessTop(dir, top);
                    dir = top;
                    at.clear();
                    continue;
                }
                // The walk's directories are real ones, so `at` is where it stands whatever links led there.
                refuseIfReserved(at, name);
                if (last) {
                    return action.apply(dir, at, name, attrs);
                }
                if (attrs == null) {
                    if (!makeDirectories) {
                        throw new NoSuchFileException(display(at, name));
                    }
                    makeDirectory(top, dir, name);
                } else if (!attrs.isDirectory()) {
                    throw refuse("'" + display(at, name) + "' is not a directory");
                }
                SecureDirectoryStream<Path> sub = openDirectory(dir, at, name);
                closeUnlessTop(dir, top);
                dir = sub;
                at.add(name);
            }
        } finally {
            closeUnlessTop(dir, top);
            top.close();
        }
    }

    private void refuseIfReserved(List<String> at, String name) {
        if (reserved.isEmpty() || at.size() + 1 < reserved.size()) {
            return;
        }
        List<String> here = new ArrayList<>(at);
        here.add(name);
        if (here.subList(0, reserved.size()).equals(reserved)) {
            throw refuse("'" + display(at, name) + "' lies in the service's state directory, which holds no images");
        }
    }

    /** The names below the root that {@code path} (absolute, or relative to the root) consists of. */
    private Deque<String> components(Path path) {
        Path abs = (path.isAbsolute() ? path : root.resolve(path)).normalize();
        if (!abs.startsWith(root)) {
            throw refuse("'" + path.getFileName() + "' lies outside the data root");
        }
        Deque<String> names = new ArrayDeque<>();
        for (Path p : root.relativize(abs)) {
            if (!p.toString().isEmpty()) {
                names.add(p.toString());
            }
        }
        if (names.isEmpty()) {
            throw refuse("The data root itself cannot be opened as a file");
        }
        return names;
    }

    /**
     * Where the link {@code name} in the directory {@code at} points, as an absolute path inside
     * the root. The directories walked so far are real ones (each opened without following a
     * link), so {@code ..} in the target may be taken lexically. Reading the link by its path can
     * race with a swap, but whatever text is read is resolved beneath the root again.
     */
    private Path linkTarget(List<String> at, String name) throws IOException {
        Path here = root.resolve(String.join("/", at));
        Path target;
        try {
            target = Files.readSymbolicLink(here.resolve(name));
        } catch (NoSuchFileException | java.nio.file.NotLinkException e) {
            throw new Swapped(display(at, name), e);
        }
        Path resolved = here.resolve(target).normalize();
        if (!resolved.startsWith(root) || resolved.equals(root)) {
            throw refuse("'" + display(at, name) + "' is a symbolic link that leads outside the data root; "
                    + "only files inside the data root can be used");
        }
        return resolved;
    }

    private static SecureDirectoryStream<Path> openDirectory(
            SecureDirectoryStream<Path> dir, List<String> at, String name) throws IOException {
        try {
            return dir.newDirectoryStream(Path.of(name), LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException | java.nio.file.AccessDeniedException e) {
            throw e;
        } catch (FileSystemException e) {
            // ELOOP (now a link) or ENOTDIR (now a file): it changed since it was looked at
            throw new Swapped(display(at, name), e);
        }
    }

    private static FileChannel openFile(
            SecureDirectoryStream<Path> dir, List<String> at, String name, Set<? extends OpenOption> options)
            throws IOException {
        Set<OpenOption> noFollow = new HashSet<>(options);
        noFollow.add(LinkOption.NOFOLLOW_LINKS);
        SeekableByteChannel channel;
        try {
            channel = dir.newByteChannel(Path.of(name), noFollow);
        } catch (FileSystemException e) {
            if (isLoop(e)) {
                throw new Swapped(display(at, name), e);
            }
            throw e;
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("symbolic links")) {
                throw new Swapped(display(at, name), e); // the JDK reports O_NOFOLLOW's ELOOP as a plain IOException
            }
            throw e;
        }
        if (channel instanceof FileChannel file) {
            return file;
        }
        channel.close();
        throw new IOException(
                "The platform's directory stream did not give a FileChannel for '" + display(at, name) + "'");
    }

    private static boolean isLoop(FileSystemException e) {
        String reason = e.getReason();
        return reason != null && reason.contains("symbolic links");
    }

    /** mkdirat in two steps that both stay beneath the root: mkdir in the root, renameat into place. */
    private void makeDirectory(SecureDirectoryStream<Path> top, SecureDirectoryStream<Path> dir, String name)
            throws IOException {
        synchronized (mkdirLock) {
            if (statNoFollow(dir, name) != null) {
                return; // made meanwhile; the caller opens it without following links
            }
            Path staging = Path.of(STAGING_PREFIX + UUID.randomUUID());
            Files.createDirectory(root.resolve(staging));
            try {
                top.move(staging, dir, Path.of(name));
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException madeByAnother) {
                // another process made it first; it is opened below like any existing directory
            } finally {
                try {
                    top.deleteDirectory(staging);
                } catch (NoSuchFileException moved) {
                    // the usual case: it is in place now
                }
            }
        }
    }

    private static @Nullable BasicFileAttributes statNoFollow(SecureDirectoryStream<Path> dir, String name)
            throws IOException {
        try {
            return dir.getFileAttributeView(Path.of(name), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static void closeUnlessTop(SecureDirectoryStream<Path> dir, SecureDirectoryStream<Path> top)
            throws IOException {
        if (dir != top) {
            dir.close();
        }
    }

    private static String display(List<String> at, String name) {
        return at.isEmpty() ? name : String.join("/", at) + "/" + name;
    }

    private static BlockException refuse(String message) {
        return new BlockException(BlockErrorKind.INVALID_ARGUMENT, message);
    }

    /** A name on the walk changed between its look-up and its open: walk again from the root. */
    private static final class Swapped extends IOException {
        final String name;

        Swapped(String name, Throwable cause) {
            super(name + " changed while being opened", cause);
            this.name = name;
        }
    }
}
