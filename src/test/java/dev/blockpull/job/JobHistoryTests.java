package dev.blockpull.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class JobHistoryTests {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

    private JobView finished(String id, JobResult result) {
        return new JobView(
                id,
                "stream",
                JobStatus.NULL,
                "top",
                10,
                10,
                0,
                false,
                false,
                IoStatus.OK,
                false,
                result == JobResult.COMPLETED ? null : "Input/output error",
                result,
                0,
                null,
                clock.instant(),
                clock.instant(),
                true,
                true,
                7,
                0,
                null,
                false);
    }

    @Test
    void aRecordIsReadableWithItsResultAndError() {
        JobHistory history = new JobHistory(10, Duration.ofHours(1), clock);
        history.add(finished("s1", JobResult.FAILED));
        assertThat(history.get("s1")).hasValueSatisfying(v -> {
            assertThat(v.status()).isEqualTo(JobStatus.NULL);
            assertThat(v.result()).isEqualTo(JobResult.FAILED);
            assertThat(v.error()).isEqualTo("Input/output error");
        });
    }

    @Test
    void aRecordDismissedBeforeARestartAgesFromItsDismissal() {
        JobHistory history = new JobHistory(10, Duration.ofHours(1), clock);
        history.add(finished("old", JobResult.COMPLETED), clock.instant().minus(Duration.ofMinutes(50)));
        history.add(finished("new", JobResult.COMPLETED));

        clock.advance(Duration.ofMinutes(11));

        assertThat(history.list()).extracting(JobView::id).containsExactly("new");
    }

    @Test
    void theOldestRecordIsDroppedBeyondTheSize() {
        JobHistory history = new JobHistory(2, Duration.ofHours(1), clock);
        history.add(finished("a", JobResult.COMPLETED));
        history.add(finished("b", JobResult.COMPLETED));
        history.add(finished("c", JobResult.COMPLETED));
        assertThat(history.list()).extracting(JobView::id).containsExactly("b", "c");
    }

    @Test
    void recordsExpireAfterTheMaximumAge() {
        JobHistory history = new JobHistory(10, Duration.ofMinutes(10), clock);
        history.add(finished("old", JobResult.COMPLETED));
        clock.advance(Duration.ofMinutes(6));
        history.add(finished("young", JobResult.COMPLETED));
        clock.advance(Duration.ofMinutes(5));
        assertThat(history.get("old")).isEmpty();
        assertThat(history.list()).extracting(JobView::id).containsExactly("young");
    }

    @Test
    void aRecordWithTheSameIdReplacesTheOldOne() {
        JobHistory history = new JobHistory(10, Duration.ofHours(1), clock);
        history.add(finished("s1", JobResult.FAILED));
        history.add(finished("s1", JobResult.COMPLETED));
        assertThat(history.size()).isEqualTo(1);
        assertThat(history.get("s1"))
                .hasValueSatisfying(v -> assertThat(v.result()).isEqualTo(JobResult.COMPLETED));
    }

    /** A wall clock the test moves. */
    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
