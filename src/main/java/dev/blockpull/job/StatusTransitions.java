package dev.blockpull.job;

/**
 * QEMU's JobSTT: which status may follow which. A transition outside the table is a bug in the
 * job floor, never a user error, hence {@link IllegalStateException} (QEMU asserts).
 */
public final class StatusTransitions {

    /** Rows: from; columns: to; both in {@link JobStatus} order (U C R P Y S W D X E N). */
    private static final boolean[][] ALLOWED = rows(
            /*              U  C  R  P  Y  S  W  D  X  E  N */
            /* undefined */ "0  1  0  0  0  0  0  0  0  0  0",
            /* created   */ "0  0  1  0  0  0  0  0  1  0  1",
            /* running   */ "0  0  0  1  1  0  1  0  1  0  0",
            /* paused    */ "0  0  1  0  0  0  0  0  0  0  0",
            /* ready     */ "0  0  0  0  0  1  1  0  1  0  0",
            /* standby   */ "0  0  0  0  1  0  0  0  0  0  0",
            /* waiting   */ "0  0  0  0  0  0  0  1  1  0  0",
            /* pending   */ "0  0  0  0  0  0  0  0  1  1  0",
            /* aborting  */ "0  0  0  0  0  0  0  0  1  1  0",
            /* concluded */ "0  0  0  0  0  0  0  0  0  0  1",
            /* null      */ "0  0  0  0  0  0  0  0  0  0  0");

    private StatusTransitions() {}

    public static boolean isAllowed(JobStatus from, JobStatus to) {
        return ALLOWED[from.ordinal()][to.ordinal()];
    }

    /** The one transition check: throws when {@code from → to} is not in the table. */
    public static void check(JobStatus from, JobStatus to) {
        if (!isAllowed(from, to)) {
            throw new IllegalStateException("Job status transition " + from + " -> " + to + " is not allowed");
        }
    }

    static boolean[][] rows(String... rows) {
        int width = rows[0].trim().split("\\s+").length;
        boolean[][] table = new boolean[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            String[] cells = rows[r].trim().split("\\s+");
            if (cells.length != width) {
                throw new IllegalArgumentException("Table row " + r + " has " + cells.length + " cells");
            }
            table[r] = new boolean[width];
            for (int c = 0; c < width; c++) {
                table[r][c] = cells[c].equals("1");
            }
        }
        return table;
    }
}
