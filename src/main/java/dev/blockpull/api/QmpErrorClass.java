package dev.blockpull.api;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.blockpull.io.BlockException;
import dev.blockpull.job.JobNotFoundException;
import java.util.List;

/**
 * The QMP error class a problem carries as {@code errorClass}, so that clients written against
 * QMP can keep switching on it. QEMU reports almost everything as {@code GenericError}; the other
 * classes survive only for a few lookups (QEMU's {@code qapi/error.json}).
 */
public enum QmpErrorClass {
    GENERIC_ERROR("GenericError"),
    DEVICE_NOT_FOUND("DeviceNotFound"),
    COMMAND_NOT_FOUND("CommandNotFound"),
    DEVICE_NOT_ACTIVE("DeviceNotActive"),
    KVM_MISSING_CAP("KVMMissingCap");

    /**
     * Block exceptions that QEMU reports with a class other than GenericError, most specific
     * first. Floors below add their exception type here (for example, a graph lookup that QEMU
     * answers with DeviceNotFound); everything else stays GenericError.
     */
    private static final List<Refinement> REFINEMENTS = List.of(
            // block-job-* verbs on an unknown job: QEMU's find_block_job answers DeviceNotActive
            new Refinement(JobNotFoundException.class, DEVICE_NOT_ACTIVE));

    private final String qmpName;

    QmpErrorClass(String qmpName) {
        this.qmpName = qmpName;
    }

    /** The name as QMP spells it, e.g. {@code GenericError}. */
    @JsonValue
    public String qmpName() {
        return qmpName;
    }

    /** The class of a block-layer error: GenericError unless a refinement names its type. */
    public static QmpErrorClass of(BlockException e) {
        for (Refinement r : REFINEMENTS) {
            if (r.type().isInstance(e)) {
                return r.errorClass();
            }
        }
        return GENERIC_ERROR;
    }

    @Override
    public String toString() {
        return qmpName;
    }

    private record Refinement(Class<? extends BlockException> type, QmpErrorClass errorClass) {}
}
