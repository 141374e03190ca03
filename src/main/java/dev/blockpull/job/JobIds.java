package dev.blockpull.job;

/** QEMU's id_wellformed for job ids: an ASCII letter, then letters, digits, '-', '.', '_'. */
public final class JobIds {

    private JobIds() {}

    public static boolean isWellFormed(String id) {
        if (id.isEmpty() || !isAsciiLetter(id.charAt(0))) {
            return false;
        }
        for (int i = 1; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!isAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') {
                return false;
            }
        }
        return true;
    }

    /** Throws {@link InvalidJobIdException} unless {@link #isWellFormed}. */
    public static void check(String id) {
        if (!isWellFormed(id)) {
            throw new InvalidJobIdException(id);
        }
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
