package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The monitor's deferred actions, its release action, its try-lock and its conditional wait. */
class MonitorTests {

    private final Monitor monitor = new Monitor();
    private final List<String> heard = new ArrayList<>();
    /** A monitor whose release action records whether it ran with the lock held. */
    private final Monitor publishing =
            new Monitor(() -> heard.add(publishingHeld() ? "release, held" : "release, free"));

    private boolean publishingHeld() {
        return publishing.isHeldByCurrentThread();
    }

    @Test
    void aDeferredActionRunsAfterTheOutermostUnlockWithTheLockFree() {
        monitor.lock();
        monitor.lock();
        monitor.afterUnlock(() -> heard.add(monitor.isHeldByCurrentThread() ? "held" : "free"));

        monitor.unlock();
        assertThat(heard).isEmpty();

        monitor.unlock();
        assertThat(heard).containsExactly("free");
    }

    @Test
    void deferredActionsRunOnceInTheOrderTheyWereDeferred() {
        monitor.run(() -> {
            monitor.afterUnlock(() -> heard.add("first"));
            monitor.afterUnlock(() -> heard.add("second"));
        });
        monitor.run(() -> heard.add("next hold"));

        assertThat(heard).containsExactly("first", "second", "next hold");
    }

    @Test
    void deferringWithoutTheLockIsRefused() {
        assertThatExceptionOfType(IllegalMonitorStateException.class)
                .isThrownBy(() -> monitor.afterUnlock(() -> heard.add("never")));
    }

    @Test
    void awaitUntilAnswersAtOnceWhenTheConditionHolds() throws InterruptedException {
        assertThat(monitor.awaitUntil(() -> true, Duration.ZERO)).isTrue();
    }

    @Test
    void awaitUntilAnswersFalseWhenTheTimeoutPassesFirst() throws InterruptedException {
        assertThat(monitor.awaitUntil(() -> false, Duration.ofMillis(1))).isFalse();
    }

    @Test
    void theReleaseActionRunsWithTheLockHeldWhenTheLastHoldIsLetGo() {
        publishing.lock();
        publishing.lock();
        publishing.unlock();
        assertThat(heard).isEmpty();

        publishing.unlock();
        assertThat(heard).containsExactly("release, held");
    }

    @Test
    void theReleaseActionRunsBeforeTheDeferredActions() {
        publishing.run(() -> publishing.afterUnlock(() -> heard.add("deferred")));

        assertThat(heard).containsExactly("release, held", "deferred");
    }

    @Test
    void theReleaseActionRunsBeforeAWaitLetsTheLockGo() throws InterruptedException {
        publishing.lock();
        try {
            publishing.awaitNanos(1);
            assertThat(heard).containsExactly("release, held");
        } finally {
            publishing.unlock();
        }
    }

    @Test
    void tryLockTakesAFreeLockAndGivesUpOnOneThatAnotherThreadHolds() {
        assertThat(monitor.tryLock()).isTrue();
        monitor.unlock();

        monitor.lock();
        try {
            assertThat(CompletableFuture.supplyAsync(monitor::tryLock).join()).isFalse();
        } finally {
            monitor.unlock();
        }
    }
}
