package dev.blockpull.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.StringJoiner;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The one directory images live in, and the only way to turn a name into a path. Names come
 * from API users and from backing-file strings inside untrusted images, so every name is
 * checked before anything is opened: no absolute paths (except, for backing files, ones that
 * lie inside the root), no {@code ..} escapes, no protocol prefixes such as {@code json:} or
 * {@code nbd:} (which QEMU would honour), no control characters, and no symlink that leads out.
 *
 * <p>The check here runs when the name is resolved; the open through {@link #files()} walks the
 * name again beneath the root, so a symlink swapped in between the two does not lead outside.
 */
public final class DataRoot {

    /**
     * What QEMU takes for a protocol prefix (path_has_protocol): a colon before the first slash,
     * whatever precedes it, so {@code host_device:/dev/sda} counts as much as {@code nbd://...}.
     */
    private static final Pattern SCHEME = Pattern.compile("^[^/]*:");

    private static final int QUOTE_LIMIT = 64;
    /** Linux NAME_MAX: the longest one path segment may be, in bytes. */
    static final int MAX_SEGMENT_BYTES = 255;
    /** Linux PATH_MAX (4096 with the terminating NUL): the longest a whole path may be, in bytes. */
    static final int MAX_PATH_BYTES = 4095;

    private final Path root;
    /** The real path and the configured one (they differ when the root is reached through a symlink). */
    private final List<String> rootSpellings;

    private final FileOpener files;
    /** The service's own directory when it lies inside the root: no name may lead into it. */
    private final @Nullable Path reserved;

    /** Creates the directory if missing; the root is kept as its canonical (real) path. */
    public DataRoot(Path root) {
        this(root, null);
    }

    /**
     * {@link #DataRoot(Path)} with a directory of the service's own (its state) that no file name
     * or backing-file string may reach and that listings skip, when it lies inside the root. It is
     * created if missing.
     */
    public DataRoot(Path root, @Nullable Path reservedDir) {
        try {
            Files.createDirectories(root);
            this.root = root.toRealPath();
            this.rootSpellings = spellings(this.root, root.toAbsolutePath().normalize());
            Path reservedReal = null;
            if (reservedDir != null) {
                Files.createDirectories(reservedDir);
                reservedReal = reservedDir.toRealPath();
            }
            this.reserved = reservedReal != null && reservedReal.startsWith(this.root) ? reservedReal : null;
            // The open walks the name again: a link swapped in after the check cannot lead in either.
            this.files = new ConfinedFiles(this.root, this.reserved);
        } catch (FileAlreadyExistsException e) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT, "Data root '" + root + "' exists but is not a directory", e);
        } catch (IOException e) {
            throw new BlockIoException("Cannot create or open data root '" + root + "': " + e.getMessage(), e);
        }
    }

    /** Longest first, so that a spelling which contains another is replaced whole. */
    private static List<String> spellings(Path real, Path configured) {
        return Stream.of(real.toString(), configured.toString())
                .filter(s -> !s.equals("/"))
                .distinct()
                .sorted(Comparator.comparingInt(String::length).reversed())
                .toList();
    }

    public Path root() {
        return root;
    }

    /** Whether {@code path} (absolute, real) is the reserved directory or lies in it. */
    public boolean isReserved(Path path) {
        return reserved != null && path.toAbsolutePath().normalize().startsWith(reserved);
    }

    /**
     * The way to open and create files under the root: resolution and open in one step, so that
     * a symlink swapped in after {@link #resolve} cannot lead the open outside (see ConfinedFiles).
     */
    public FileOpener files() {
        return files;
    }

    /**
     * Resolves a file name given by an API user: relative to the root, without {@code ..}.
     *
     * @return the normalised absolute path; a final symlink that stays inside the root is not followed
     * @throws BlockException kind {@link BlockErrorKind#INVALID_ARGUMENT} when the name is refused
     */
    public Path resolve(String name) {
        String what = "File name " + quote(name);
        checkSyntax(what, name);
        if (name.startsWith("/")) {
            throw refuse(what + " is an absolute path; give a path relative to the data root, e.g. 'vm1/disk.qcow2'");
        }
        if (hasDotDot(name)) {
            throw refuse(what + " contains a '..' segment; give a path relative to the data root that stays inside it");
        }
        return confine(what, checkLength(what, toPath(what, root, name).normalize()));
    }

    /**
     * Resolves a backing-file string found inside {@code image}, which may be a hostile image. A
     * relative name is taken relative to the directory of {@code image} (as QEMU does), not to the
     * working directory, and may use {@code ..} as long as the result stays inside the root; an
     * absolute name is accepted only if it lies inside the root.
     *
     * @param image the image that names the backing file (absolute, or relative to the root)
     * @throws BlockException kind {@link BlockErrorKind#INVALID_ARGUMENT} when the name is refused
     */
    public Path resolveBacking(Path image, String backingName) {
        String what = "Backing file name " + quote(backingName);
        checkSyntax(what, backingName);
        Path imagePath = image.isAbsolute() ? image : root.resolve(image);
        Path dir = imagePath.normalize().getParent();
        Path candidate = toPath(what, dir == null ? root : dir, backingName).normalize();
        return confine(what, checkLength(what, candidate));
    }

    /** The name of {@code path} relative to the root, with '/' separators. */
    public String relativize(Path path) {
        Path abs = (path.isAbsolute() ? path : root.resolve(path)).normalize();
        if (!abs.startsWith(root)) {
            throw refuse("Path '" + path + "' is outside the data root '" + root + "'");
        }
        StringJoiner name = new StringJoiner("/");
        for (Path part : root.relativize(abs)) {
            name.add(part.toString());
        }
        return name.toString();
    }

    /**
     * {@code text} with every mention of the root's absolute path taken out, so that messages
     * which name files by their full path (I/O errors, the JDK's own texts) can be shown to API
     * users without telling them where the data lives on the host: names inside the root become
     * relative, the root itself becomes "the data root".
     */
    public String hidePaths(String text) {
        String out = text;
        for (String prefix : rootSpellings) {
            // only whole path segments: a root of /data must leave /database alone
            out = out.replaceAll(Pattern.quote(prefix) + "/(?=[^/])", "")
                    .replaceAll(Pattern.quote(prefix) + "(?![^/\\s'\",:;)\\]}])", "<data root>");
        }
        return out;
    }

    @Override
    public String toString() {
        return "DataRoot[" + root + "]";
    }

    /** Refusals shared by user names and backing names. */
    private static void checkSyntax(String what, String name) {
        if (name.isEmpty()) {
            throw refuse(what + " is empty; give a file name relative to the data root, e.g. 'vm1/disk.qcow2'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == 0) {
                throw refuse(what + " contains a NUL character; file names must be plain text");
            }
            if (Character.isISOControl(c)) {
                throw refuse(what + " contains the control character U+" + String.format("%04X", (int) c)
                        + "; file names must be plain text");
            }
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (pairedAt(name, i)) {
                i++;
            } else if (Character.isSurrogate(c)) {
                // no file system name can hold it: UTF-8 has no encoding for half a character
                throw refuse(what + " contains an unpaired UTF-16 surrogate (U+" + String.format("%04X", (int) c)
                        + "); file names must be valid Unicode");
            }
        }
        for (String segment : name.split("/", -1)) {
            if (segment.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT_BYTES) {
                throw refuse(what + " has a path segment longer than " + MAX_SEGMENT_BYTES
                        + " bytes, more than the file system allows; use a shorter name");
            }
        }
        if (name.indexOf('\\') >= 0) {
            throw refuse(what + " contains a backslash; separate directories with '/'");
        }
        if (SCHEME.matcher(name).find()) {
            throw refuse(what + " uses a protocol prefix; only plain file names inside the data root are allowed"
                    + " (write './" + abbreviate(name) + "' if a file name really contains a colon)");
        }
    }

    /** {@code base.resolve(name)}, with a name the platform cannot represent refused as a bad argument. */
    private static Path toPath(String what, Path base, String name) {
        try {
            return base.resolve(name);
        } catch (InvalidPathException e) {
            throw refuse(what + " cannot be a file name on this system (" + e.getReason() + ")");
        }
    }

    /** The whole resolved path must fit PATH_MAX, or opening it fails with ENAMETOOLONG. */
    private Path checkLength(String what, Path candidate) {
        if (candidate.toString().getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
            throw refuse(what + " makes a path longer than the file system allows; use a shorter name");
        }
        return candidate;
    }

    /**
     * Checks that {@code candidate}, a normalised absolute path, stays inside the root also after
     * following symlinks: the deepest part of it that exists is canonicalised and re-checked.
     */
    private Path confine(String what, Path candidate) {
        Path existing = deepestExisting(candidate);
        Path real;
        try {
            real = existing.toRealPath();
        } catch (NoSuchFileException e) {
            // a dangling symlink: where it leads cannot be checked, and creating the file would follow it
            throw refuse(what + " leads through a symbolic link whose target does not exist; name the file directly");
        } catch (IOException e) {
            throw new BlockIoException(what + " cannot be checked: " + e.getMessage(), e);
        }
        if (!real.startsWith(root)) {
            throw refuse(what + " resolves to a location outside the data root; "
                    + "only files inside the data root can be used");
        }
        // an absolute name that reaches the root by another way (a symlink to it): use the real path
        Path inside = candidate.startsWith(root) ? candidate : real.resolve(existing.relativize(candidate));
        if (inside.equals(root)) {
            throw refuse(what + " names the data root itself; name a file inside it");
        }
        if (isReserved(inside) || isReserved(real)) {
            throw refuse(what + " leads into the service's state directory, which holds no images; "
                    + "name a file elsewhere in the data root");
        }
        return inside;
    }

    /** The longest prefix of an absolute {@code path} that exists, without following a final symlink. */
    private static Path deepestExisting(Path path) {
        Path p = path;
        while (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            Path parent = p.getParent();
            if (parent == null) {
                return p; // no existing prefix at all (a missing file system root); toRealPath will say so
            }
            p = parent;
        }
        return p;
    }

    private static boolean hasDotDot(String name) {
        for (String segment : name.split("/", -1)) {
            if (segment.equals("..")) {
                return true;
            }
        }
        return false;
    }

    private static BlockException refuse(String message) {
        return new BlockException(BlockErrorKind.INVALID_ARGUMENT, message);
    }

    /** The name in quotes, shortened, with control characters escaped: it may be hostile. */
    private static String quote(String name) {
        return "'" + abbreviate(name) + "'";
    }

    private static boolean pairedAt(String s, int i) {
        return Character.isHighSurrogate(s.charAt(i))
                && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1));
    }

    private static String abbreviate(String name) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        for (; i < name.length() && out.length() < QUOTE_LIMIT; i++) {
            char c = name.charAt(i);
            boolean lone = Character.isSurrogate(c) && !pairedAt(name, i) && !(i > 0 && pairedAt(name, i - 1));
            // a lone surrogate cannot even be written as JSON: escape it like a control character
            out.append(Character.isISOControl(c) || lone ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return i < name.length() ? out + "..." : out.toString();
    }
}
