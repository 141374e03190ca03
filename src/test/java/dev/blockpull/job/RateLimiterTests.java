package dev.blockpull.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** stream-semantics §7.1, on a clock the test moves. */
class RateLimiterTests {

    private static final long MS = 1_000_000L;
    private static final long MIB = 1024 * 1024;

    /** Starts negative on purpose: System.nanoTime may be. */
    private final AtomicLong now = new AtomicLong(-5_000 * MS);

    private final RateLimiter limiter = new RateLimiter(now::get);

    @Test
    void speedZeroDisablesTheLimiter() {
        limiter.setSpeed(0);
        assertThat(limiter.account(100 * MIB)).isZero();
        assertThat(limiter.account(0)).isZero();
    }

    @Test
    void quotaIsATenthOfTheSpeedTruncatedWithAFloorOfOneByte() {
        limiter.setSpeed(MIB);
        assertThat(limiter.quota()).isEqualTo(104857);
        limiter.setSpeed(1024);
        assertThat(limiter.quota()).isEqualTo(102);
        limiter.setSpeed(5);
        assertThat(limiter.quota()).isEqualTo(1);
    }

    @Test
    void theFirstRequestIsNeverDelayedBeforeItIsSent() {
        limiter.setSpeed(MIB);
        assertThat(limiter.account(0)).isZero();
    }

    @Test
    void requestsBelowTheQuotaAreNotDelayed() {
        limiter.setSpeed(MIB);
        assertThat(limiter.account(50_000)).isZero();
        assertThat(limiter.account(50_000)).isZero();
    }

    @Test
    void reachingTheQuotaDelaysUntilTheEndOfTheSlice() {
        limiter.setSpeed(MIB);
        limiter.account(60_000);
        now.addAndGet(30 * MS);
        // 120000 / 104857 slices of 100 ms from the slice start, minus the 30 ms gone.
        long expectedEnd = (long) ((120_000.0 / 104_857) * 100 * MS);
        assertThat(limiter.account(60_000)).isEqualTo(expectedEnd - 30 * MS);
    }

    @Test
    void aRequestLargerThanTheQuotaPaysWithAMultiSliceDelay() {
        limiter.setSpeed(1024);
        long delay = limiter.account(512 * 1024);
        // 524288 / 102 = 5140.07 slices: about 514 s (stream-semantics §7.2).
        assertThat(delay).isEqualTo((long) ((524288.0 / 102) * 100 * MS));
        assertThat(delay / 1_000_000_000L).isEqualTo(514);
    }

    @Test
    void accountingZeroAfterACopyReturnsTheRemainingDelay() {
        limiter.setSpeed(MIB);
        long delay = limiter.account(512 * 1024);
        now.addAndGet(200 * MS);
        assertThat(limiter.account(0)).isEqualTo(delay - 200 * MS);
    }

    @Test
    void aNewSliceStartsOnceTheStretchedSliceHasEnded() {
        limiter.setSpeed(MIB);
        long delay = limiter.account(512 * 1024);
        now.addAndGet(delay + 1);
        assertThat(limiter.account(0)).isZero();
        assertThat(limiter.account(100_000)).isZero();
    }

    @Test
    void anEarlyWakeUpDoesNotShortenTheDelay() {
        limiter.setSpeed(MIB);
        long delay = limiter.account(512 * 1024);
        now.addAndGet(delay / 2);
        long rest = limiter.account(0);
        assertThat(rest).isEqualTo(delay - delay / 2);
        now.addAndGet(rest);
        assertThat(limiter.account(0)).isZero();
    }

    @Test
    void raisingTheSpeedShortensThePendingDelay() {
        limiter.setSpeed(1024);
        long slow = limiter.account(512 * 1024);
        limiter.setSpeed(2048);
        long fast = limiter.account(0);
        assertThat(fast).isLessThan(slow).isEqualTo((long) ((524288.0 / 204) * 100 * MS));
    }

    @Test
    void raisingTheQuotaAboveWhatWasSentReleasesAtOnce() {
        limiter.setSpeed(1024);
        limiter.account(512 * 1024);
        limiter.setSpeed(10 * MIB);
        assertThat(limiter.account(0)).isZero();
    }

    @Test
    void settingSpeedZeroReleasesAThrottledRequestAtOnce() {
        limiter.setSpeed(1024);
        limiter.account(512 * 1024);
        limiter.setSpeed(0);
        assertThat(limiter.account(0)).isZero();
    }

    @Test
    void sustainedCopiesAverageToTheConfiguredSpeed() {
        limiter.setSpeed(MIB);
        long start = now.get();
        long sent = 0;
        for (int i = 0; i < 20; i++) {
            long delay = limiter.account(0);
            now.addAndGet(delay);
            limiter.account(512 * 1024);
            sent += 512 * 1024;
        }
        now.addAndGet(limiter.account(0));
        double seconds = (now.get() - start) / 1e9;
        assertThat(sent / seconds).isBetween(MIB * 0.99, MIB * 1.01);
    }

    @Test
    void lateWakeUpsDoNotSlowTheAverageDown() {
        long speed = 200 * MIB;
        limiter.setSpeed(speed);
        long start = now.get();
        long sent = 0;
        for (int i = 0; i < 1000; i++) {
            long delay = limiter.account(0);
            now.addAndGet(delay + 2 * MS); // every sleep ends 2 ms late, and the copy takes 2 ms
            limiter.account(2 * MIB);
            sent += 2 * MIB;
        }
        now.addAndGet(limiter.account(0));
        double seconds = (now.get() - start) / 1e9;
        assertThat(sent / seconds).isBetween(speed * 0.995, speed * 1.005);
    }

    @Test
    void aPauseLongerThanASliceEarnsNoBurst() {
        limiter.setSpeed(MIB);
        limiter.account(limiter.quota());
        now.addAndGet(5 * 100 * MS);

        assertThat(limiter.account(limiter.quota())).isEqualTo(100 * MS);
    }

    @Test
    void negativeSpeedIsRefusedWithQemusMessage() {
        assertThatExceptionOfType(InvalidSpeedException.class)
                .isThrownBy(() -> limiter.setSpeed(-1))
                .withMessage("Parameter 'speed' expects a non-negative value");
    }
}
