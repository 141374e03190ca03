package dev.blockpull.testsupport;

import java.time.Duration;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.DefaultLifecycleProcessor;

/**
 * The lifecycle processor of a shared {@link BlockpullHttpTest} context: it ignores the test
 * framework's pause of a cached context while another one runs (and the restart that follows).
 * The service does not come back from a stop and start of its beans within one context (the job
 * scheduler stays shut down; the state file is restored over a graph that is still open), and a
 * shared context must serve the next class as it served the first. It closes as Boot's would.
 */
final class UnpausedLifecycleProcessor extends DefaultLifecycleProcessor {

    /** The name the context looks for; Boot's own processor backs off when it is taken. */
    static final String BEAN_NAME = "lifecycleProcessor";

    UnpausedLifecycleProcessor(ConfigurableApplicationContext context) {
        setBeanFactory(context.getBeanFactory());
        // as Boot's LifecycleAutoConfiguration configures the processor this one replaces
        setTimeoutPerShutdownPhase(Binder.get(context.getEnvironment())
                .bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
                .orElse(Duration.ofSeconds(30))
                .toMillis());
    }

    @Override
    public void onPause() {
        // stays running
    }

    @Override
    public void onRestart() {
        // was never paused
    }
}
