package dev.blockpull.job;

/**
 * QEMU's JobVerbTable: which verb a job accepts in which status. The one verb check of the floor;
 * a refusal carries QEMU's message and is a state conflict (REST 409).
 */
public final class VerbTable {

    /** Rows: {@link JobVerb} order; columns: {@link JobStatus} order (U C R P Y S W D X E N). */
    private static final boolean[][] ALLOWED = StatusTransitions.rows(
            /*              U  C  R  P  Y  S  W  D  X  E  N */
            /* cancel    */ "0  1  1  1  1  1  1  1  0  0  0",
            /* pause     */ "0  1  1  1  1  1  0  0  0  0  0",
            /* resume    */ "0  1  1  1  1  1  0  0  0  0  0",
            /* set-speed */ "0  1  1  1  1  1  0  0  0  0  0",
            /* complete  */ "0  0  0  0  1  1  0  0  0  0  0",
            /* finalize  */ "0  0  0  0  0  0  0  1  0  0  0",
            /* dismiss   */ "0  0  0  0  0  0  0  0  0  1  0",
            /* change    */ "0  1  1  1  1  1  0  0  0  0  0");

    private VerbTable() {}

    public static boolean isAllowed(JobVerb verb, JobStatus status) {
        return ALLOWED[verb.ordinal()][status.ordinal()];
    }

    /** QEMU's job_apply_verb: throws {@link JobVerbRefusedException} when the table says no. */
    public static void check(String jobId, JobStatus status, JobVerb verb) {
        if (!isAllowed(verb, status)) {
            throw new JobVerbRefusedException(jobId, status, verb);
        }
    }
}
