package dev.blockpull.job;

import static dev.blockpull.job.JobStatus.ABORTING;
import static dev.blockpull.job.JobStatus.CONCLUDED;
import static dev.blockpull.job.JobStatus.CREATED;
import static dev.blockpull.job.JobStatus.NULL;
import static dev.blockpull.job.JobStatus.PAUSED;
import static dev.blockpull.job.JobStatus.PENDING;
import static dev.blockpull.job.JobStatus.READY;
import static dev.blockpull.job.JobStatus.RUNNING;
import static dev.blockpull.job.JobStatus.STANDBY;
import static dev.blockpull.job.JobStatus.UNDEFINED;
import static dev.blockpull.job.JobStatus.WAITING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatNoException;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every cell of QEMU's JobSTT, against the table of stream-semantics §6.2 written out again. */
class StatusTransitionsTests {

    private static final Map<JobStatus, Set<JobStatus>> SPEC = new EnumMap<>(JobStatus.class);

    static {
        SPEC.put(UNDEFINED, EnumSet.of(CREATED));
        SPEC.put(CREATED, EnumSet.of(RUNNING, ABORTING, NULL));
        SPEC.put(RUNNING, EnumSet.of(PAUSED, READY, WAITING, ABORTING));
        SPEC.put(PAUSED, EnumSet.of(RUNNING));
        SPEC.put(READY, EnumSet.of(STANDBY, WAITING, ABORTING));
        SPEC.put(STANDBY, EnumSet.of(READY));
        SPEC.put(WAITING, EnumSet.of(PENDING, ABORTING));
        SPEC.put(PENDING, EnumSet.of(ABORTING, CONCLUDED));
        SPEC.put(ABORTING, EnumSet.of(ABORTING, CONCLUDED));
        SPEC.put(CONCLUDED, EnumSet.of(NULL));
        SPEC.put(NULL, EnumSet.noneOf(JobStatus.class));
    }

    @Test
    void everyCellOfTheTransitionTableMatchesQemu() {
        int cells = 0;
        for (JobStatus from : JobStatus.values()) {
            for (JobStatus to : JobStatus.values()) {
                assertThat(StatusTransitions.isAllowed(from, to))
                        .as("%s -> %s", from, to)
                        .isEqualTo(SPEC.get(from).contains(to));
                cells++;
            }
        }
        assertThat(cells).isEqualTo(121);
    }

    @Test
    void checkThrowsForEveryForbiddenCellAndPassesEveryAllowedOne() {
        for (JobStatus from : JobStatus.values()) {
            for (JobStatus to : JobStatus.values()) {
                if (SPEC.get(from).contains(to)) {
                    assertThatNoException().isThrownBy(() -> StatusTransitions.check(from, to));
                } else {
                    assertThatIllegalStateException()
                            .isThrownBy(() -> StatusTransitions.check(from, to))
                            .withMessage("Job status transition " + from + " -> " + to + " is not allowed");
                }
            }
        }
    }

    @Test
    void statusesAreQemusElevenStringsInQemusOrder() {
        assertThat(JobStatus.values())
                .extracting(JobStatus::qmpName)
                .containsExactly(
                        "undefined",
                        "created",
                        "running",
                        "paused",
                        "ready",
                        "standby",
                        "waiting",
                        "pending",
                        "aborting",
                        "concluded",
                        "null");
    }

    @Test
    void statusParsesFromItsQmpName() {
        for (JobStatus s : JobStatus.values()) {
            assertThat(JobStatus.fromQmpName(s.qmpName())).isEqualTo(s);
        }
    }

    @Test
    void completedStatusesAreThoseFromWaitingOn() {
        assertThat(EnumSet.allOf(JobStatus.class).stream().filter(JobStatus::isCompleted))
                .containsExactlyInAnyOrder(WAITING, PENDING, ABORTING, CONCLUDED, NULL);
    }
}
