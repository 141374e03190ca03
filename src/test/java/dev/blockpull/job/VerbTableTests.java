package dev.blockpull.job;

import static dev.blockpull.job.JobStatus.CONCLUDED;
import static dev.blockpull.job.JobStatus.CREATED;
import static dev.blockpull.job.JobStatus.PAUSED;
import static dev.blockpull.job.JobStatus.PENDING;
import static dev.blockpull.job.JobStatus.READY;
import static dev.blockpull.job.JobStatus.RUNNING;
import static dev.blockpull.job.JobStatus.STANDBY;
import static dev.blockpull.job.JobStatus.WAITING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatNoException;

import dev.blockpull.io.BlockErrorKind;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every cell of QEMU's JobVerbTable, against stream-semantics §6.3 written out again. */
class VerbTableTests {

    private static final Map<JobVerb, Set<JobStatus>> SPEC = new EnumMap<>(JobVerb.class);

    static {
        SPEC.put(JobVerb.CANCEL, EnumSet.of(CREATED, RUNNING, PAUSED, READY, STANDBY, WAITING, PENDING));
        SPEC.put(JobVerb.PAUSE, EnumSet.of(CREATED, RUNNING, PAUSED, READY, STANDBY));
        SPEC.put(JobVerb.RESUME, EnumSet.of(CREATED, RUNNING, PAUSED, READY, STANDBY));
        SPEC.put(JobVerb.SET_SPEED, EnumSet.of(CREATED, RUNNING, PAUSED, READY, STANDBY));
        SPEC.put(JobVerb.CHANGE, EnumSet.of(CREATED, RUNNING, PAUSED, READY, STANDBY));
        SPEC.put(JobVerb.COMPLETE, EnumSet.of(READY, STANDBY));
        SPEC.put(JobVerb.FINALIZE, EnumSet.of(PENDING));
        SPEC.put(JobVerb.DISMISS, EnumSet.of(CONCLUDED));
    }

    @Test
    void everyCellOfTheVerbTableMatchesQemu() {
        int cells = 0;
        for (JobVerb verb : JobVerb.values()) {
            for (JobStatus status : JobStatus.values()) {
                assertThat(VerbTable.isAllowed(verb, status))
                        .as("%s in %s", verb, status)
                        .isEqualTo(SPEC.get(verb).contains(status));
                cells++;
            }
        }
        assertThat(cells).isEqualTo(JobVerb.values().length * 11);
    }

    @Test
    void checkRefusesEveryForbiddenCellWithQemusMessageAsAConflict() {
        for (JobVerb verb : JobVerb.values()) {
            for (JobStatus status : JobStatus.values()) {
                if (SPEC.get(verb).contains(status)) {
                    assertThatNoException().isThrownBy(() -> VerbTable.check("j1", status, verb));
                } else {
                    assertThatExceptionOfType(JobVerbRefusedException.class)
                            .isThrownBy(() -> VerbTable.check("j1", status, verb))
                            .withMessage("Job 'j1' in state '" + status.qmpName() + "' cannot accept command verb '"
                                    + verb.qmpName() + "'")
                            .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.CONFLICT));
                }
            }
        }
    }

    @Test
    void verbsAreSpeltAsInQmp() {
        assertThat(JobVerb.values())
                .extracting(JobVerb::qmpName)
                .containsExactly("cancel", "pause", "resume", "set-speed", "complete", "finalize", "dismiss", "change");
    }
}
