package dev.blockpull.ops;

import dev.blockpull.nbd.NbdConfigurationException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Start-up stopped by the NBD settings (plain NBD beyond loopback, TLS files that do not load):
 * Spring Boot's "APPLICATION FAILED TO START" report with our message, instead of a stack trace.
 */
class NbdFailureAnalyzer extends AbstractFailureAnalyzer<NbdConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, NbdConfigurationException cause) {
        return new FailureAnalysis(
                cause.getMessage(), "Change the blockpull.nbd.* settings (README, \"Secure NBD\").", cause);
    }
}
