package dev.blockpull.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A seeded generator of file names and backing-file strings that must never be used: absolute
 * paths, {@code ..} escapes, names through symlinks that lead out of the data root, {@code json:}
 * and other protocol prefixes, NUL and control characters, names longer than the file system
 * allows, and strings that are not valid UTF-16. Each kind is decorated with random but harmless
 * parts, so that every run covers the same cases and a failure names its seed.
 *
 * <p>The symlink kinds expect {@code esc-dir} (a symlink to a directory outside the root),
 * {@code esc-file.qcow2} (a symlink to a file outside) and {@code dangling.qcow2} (a symlink to a
 * missing file) at the top of the data root.
 */
public final class HostileNames {

    /** One way a name can be hostile; {@code make} takes the random source and the outside directory. */
    public enum Kind {
        ABSOLUTE_OUTSIDE(ctx -> ctx.outside + "/" + ctx.word() + ".qcow2"),
        ABSOLUTE_SYSTEM(ctx -> ctx.pick("/etc/passwd", "/proc/self/environ", "/dev/zero", "/", "//etc/shadow")),
        DOT_DOT(ctx -> "../".repeat(1 + ctx.random.nextInt(6)) + ctx.word() + ".qcow2"),
        DOT_DOT_INSIDE_OUT(ctx -> ctx.word() + "/" + "../".repeat(2 + ctx.random.nextInt(5)) + "outside/canary.qcow2"),
        SYMLINKED_DIRECTORY(ctx ->
                "esc-dir/" + ctx.pick("canary.qcow2", ctx.word() + ".qcow2", ctx.word() + "/" + ctx.word() + ".qcow2")),
        SYMLINKED_FILE(ctx -> ctx.pick("esc-file.qcow2", "./esc-file.qcow2", "esc-file.qcow2/")),
        DANGLING_SYMLINK(ctx -> ctx.pick("dangling.qcow2", "./dangling.qcow2")),
        JSON(ctx -> "json:{\"file.filename\":\"" + ctx.outside + "/canary.qcow2\"}"),
        PROTOCOL(ctx -> ctx.pick(
                "nbd://127.0.0.1:10809/" + ctx.word(),
                "nbd+unix:///x?socket=/tmp/s",
                "file:" + ctx.outside + "/canary.qcow2",
                "http://example.com/" + ctx.word(),
                "ssh://root@localhost/etc/passwd",
                "gluster+tcp://h/v/" + ctx.word(),
                "iscsi://h/iqn/0",
                "host_device:/dev/sda",
                "null-co://",
                "vvfat:/")),
        NUL(ctx -> ctx.insert(ctx.word() + ".qcow2", "\0")),
        CONTROL(ctx -> ctx.insert(ctx.word() + ".qcow2", ctx.pick("\n", "\r", "\t", "\u001b[2J", "\u007f", "\u0085"))),
        BACKSLASH(ctx -> ctx.pick("..\\outside\\canary.qcow2", ctx.word() + "\\" + ctx.word())),
        OVERLONG_SEGMENT(ctx -> "a".repeat(256 + ctx.random.nextInt(200)) + ".qcow2"),
        OVERLONG_PATH(ctx -> (ctx.word() + "x".repeat(200) + "/").repeat(21) + "disk.qcow2"),
        OVERLONG_MULTIBYTE_SEGMENT(ctx -> "\u00e9".repeat(128 + ctx.random.nextInt(50)) + ".qcow2"),
        LONE_HIGH_SURROGATE(ctx -> ctx.insert(ctx.word() + ".qcow2", "\ud800")),
        LONE_LOW_SURROGATE(ctx -> ctx.insert(ctx.word() + ".qcow2", "\udc00")),
        REVERSED_SURROGATES(ctx -> ctx.word() + "\udc00\ud800.qcow2");

        private final Function<Context, String> make;

        Kind(Function<Context, String> make) {
            this.make = make;
        }

        /** Whether a string of this kind can be stored in a qcow2 header as a backing file name. */
        public boolean fitsInAHeader() {
            return this != OVERLONG_PATH
                    && this != NUL
                    && this != CONTROL
                    && this != LONE_HIGH_SURROGATE
                    && this != LONE_LOW_SURROGATE
                    && this != REVERSED_SURROGATES;
        }
    }

    /** A generated name with the seed and kind that made it, for failure messages. */
    public record Name(Kind kind, long seed, String value) {
        @Override
        public String toString() {
            return kind + "#" + seed;
        }
    }

    private HostileNames() {}

    /** {@code perKind} names of every kind, made from {@code seed}. */
    public static List<Name> generate(long seed, int perKind, String outsideDirectory) {
        List<Name> names = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (int i = 0; i < perKind; i++) {
                long s = seed * 1_000_003L + kind.ordinal() * 1000L + i;
                names.add(new Name(kind, s, kind.make.apply(new Context(new Random(s), outsideDirectory))));
            }
        }
        return names;
    }

    private record Context(Random random, String outside) {

        String word() {
            int n = 1 + random.nextInt(8);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                sb.append((char) ('a' + random.nextInt(26)));
            }
            return sb.toString();
        }

        String pick(String... choices) {
            return choices[random.nextInt(choices.length)];
        }

        String insert(String into, String what) {
            int at = random.nextInt(into.length() + 1);
            return into.substring(0, at) + what + into.substring(at);
        }
    }
}
