package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/** QEMU's node-name rules: a letter first, then letters, digits, '-', '.', '_'; at most 31 characters. */
public final class NodeName {

    /** QEMU's node_name buffer is 32 bytes, NUL included. */
    public static final int MAX_LENGTH = 31;
    /** Names QEMU generates for nodes the user did not name start with this; users cannot type them. */
    public static final String GENERATED_PREFIX = "#block";

    private NodeName() {}

    /** QEMU's id_wellformed(). */
    public static boolean isWellFormed(String name) {
        if (name.isEmpty() || !isAsciiLetter(name.charAt(0))) {
            return false;
        }
        for (int i = 1; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!isAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') {
                return false;
            }
        }
        return true;
    }

    /** Checks a user-given name in QEMU's order: well-formed, then length (duplicates are the registry's). */
    public static void check(String name) {
        if (!isWellFormed(name)) {
            throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "Invalid node-name: '" + name + "'");
        }
        if (name.length() > MAX_LENGTH) {
            throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "Node name too long");
        }
    }

    public static boolean isGenerated(String name) {
        return name.startsWith("#");
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
