package dev.blockpull.testsupport;

/**
 * {@code qemu-img check --output=json}: the exit code and the counters. qemu-img omits
 * {@code corruptions}, {@code leaks} (and {@code *-fixed}) when they are zero; they read as 0 here.
 *
 * @param exitCode    0 consistent, 1 check not completed (also: image could not be opened),
 *                    2 corruptions, 3 leaks only, 63 format without checks (raw)
 * @param corruptions refcounts lower than the references, bad COPIED flags, reserved bits...
 * @param leaks       clusters whose refcount is higher than their references (harmless)
 * @param checkErrors errors that kept the check from finishing
 * @param output      the JSON printed on stdout
 * @param stderr      qemu-img's messages, one line per problem found
 */
public record CheckResult(
        int exitCode,
        long corruptions,
        long leaks,
        long checkErrors,
        long leaksFixed,
        long corruptionsFixed,
        String output,
        String stderr) {

    public static final int CONSISTENT = 0;
    public static final int NOT_COMPLETED = 1;
    public static final int CORRUPTED = 2;
    public static final int LEAKED = 3;
    public static final int NOT_SUPPORTED = 63;

    /** Exit 0 and every counter 0. */
    public boolean isClean() {
        return exitCode == CONSISTENT && corruptions == 0 && leaks == 0 && checkErrors == 0;
    }

    /** Leaks allowed, nothing else: what a crash may leave behind. */
    public boolean isCleanOrLeaksOnly() {
        return (exitCode == CONSISTENT || exitCode == LEAKED) && corruptions == 0 && checkErrors == 0;
    }

    public String describe() {
        return "qemu-img check exit " + exitCode + ", corruptions=" + corruptions + ", leaks=" + leaks
                + ", check-errors=" + checkErrors + "\n" + output.strip()
                + (stderr.isBlank() ? "" : "\n" + stderr.strip());
    }
}
