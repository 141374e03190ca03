package dev.blockpull.graph;

/**
 * Who holds a node: a job, an export, an API user.
 *
 * @param id          the id the API shows in {@code usedBy}, e.g. {@code job0}
 * @param description how QEMU names the user in messages, e.g. {@code stream job 'job0'}
 */
public record Holder(String id, String description) {

    public static Holder job(String type, String jobId) {
        return new Holder(jobId, type + " job '" + jobId + "'");
    }

    public static Holder export(String exportId) {
        return new Holder(exportId, "export '" + exportId + "'");
    }

    @Override
    public String toString() {
        return description;
    }
}
