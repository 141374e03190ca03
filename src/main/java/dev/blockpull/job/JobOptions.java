package dev.blockpull.job;

/**
 * The generic arguments of a job, as block-stream passes them to QEMU's block_job_create.
 *
 * @param id           job id, unique among live jobs; checked by {@link JobIds}
 * @param device       the node the job works on, shown in the job view (QEMU's query output
 *                     reports the job id as {@code device}; events here do too)
 * @param speed        bytes per second, 0 = unlimited; negative fails creation
 * @param onError      what the run loop's {@link JobContext#handleError} decides
 * @param autoFinalize false: wait in {@code pending} for finalize
 * @param autoDismiss  false: wait in {@code concluded} for dismiss
 */
public record JobOptions(
        String id, String device, long speed, OnErrorPolicy onError, boolean autoFinalize, boolean autoDismiss) {

    /** QEMU's defaults: unlimited, on-error report, auto-finalize and auto-dismiss on. */
    public static JobOptions of(String id, String device) {
        return new JobOptions(id, device, 0, OnErrorPolicy.REPORT, true, true);
    }

    public JobOptions withSpeed(long bytesPerSecond) {
        return new JobOptions(id, device, bytesPerSecond, onError, autoFinalize, autoDismiss);
    }

    public JobOptions withOnError(OnErrorPolicy policy) {
        return new JobOptions(id, device, speed, policy, autoFinalize, autoDismiss);
    }

    public JobOptions withAutoFinalize(boolean on) {
        return new JobOptions(id, device, speed, onError, on, autoDismiss);
    }

    public JobOptions withAutoDismiss(boolean on) {
        return new JobOptions(id, device, speed, onError, autoFinalize, on);
    }
}
