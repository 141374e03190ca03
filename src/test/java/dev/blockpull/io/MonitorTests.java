package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The monitor's deferred actions and its conditional wait. */
class MonitorTests {

    private final Monitor monitor = new Monitor();
    private final List<String> heard = new ArrayList<>();

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
}
