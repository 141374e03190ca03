package dev.blockpull.api;

import org.apache.catalina.Container;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;

/**
 * Puts {@link ProblemErrorReportValve} in place of the Host's ErrorReportValve. The Host adds
 * its own valve when it starts, before its contexts start: so the swap happens as our context
 * starts, when the Host's pipeline already holds the valve to replace.
 */
@Component
class ProblemErrorPages implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        factory.addContextLifecycleListeners(event -> {
            if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())
                    && event.getLifecycle() instanceof Container context
                    && context.getParent() != null) {
                replaceErrorReportValve(context.getParent().getPipeline());
            }
        });
    }

    private static void replaceErrorReportValve(Pipeline pipeline) {
        for (Valve valve : pipeline.getValves()) {
            if (valve instanceof ErrorReportValve && !(valve instanceof ProblemErrorReportValve)) {
                pipeline.removeValve(valve);
            }
        }
        pipeline.addValve(new ProblemErrorReportValve());
    }
}
