package dev.blockpull.ops;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.context.ApplicationListener;

/**
 * Keeps HotSpot's optimizing compiler (C2) away from the service unless
 * {@code blockpull.jvm.optimizing-compiler=true}.
 *
 * <p>Blockpull's work is I/O: a stream spends its CPU in pread and pwrite. Profiled on a 1 GiB
 * stream, C2 compiled the copy path for 0.7-0.9 s of CPU during the job, more than the copy
 * itself, and on a two-CPU host it took that time from the copy threads; with C1 alone the same
 * job used 0.3-0.6 s of CPU in all and ended sooner, start-up was shorter and idle RSS smaller.
 * But {@code -XX:TieredStopAtLevel=1} would also take C2 from the JDK's TLS and ciphers, whose
 * AES-GCM runs on C2's intrinsics only, so the service installs a compiler directive at start
 * instead (as {@code jcmd PID Compiler.directives_add} does) that excludes every method from C2 but
 * those: hot code settles at C1's optimized tier, and NBD over TLS keeps its speed.
 *
 * <p>Nothing is done when C2 is already off or is the only compiler ({@code -XX:-TieredCompilation}:
 * excluding it would leave the interpreter), or on a JVM without HotSpot's diagnostic commands.
 */
public final class OptimizingCompilerPolicy implements ApplicationListener<ApplicationEnvironmentPreparedEvent> {

    static final String PROPERTY = "blockpull.jvm.optimizing-compiler";

    /** C2 is tier 4; with C1 only the JVM stops at tier 1 (TieredStopAtLevel=1). */
    private static final String C2_LEVEL = "4";
    /**
     * Every method but the JDK's TLS and ciphers: AES-GCM runs on C2's intrinsics only, and NBD
     * over TLS read 5 times slower without them (the first matching directive applies).
     */
    private static final String EXCLUDE_C2 = "[{ match: [\"com/sun/crypto/provider/*.*\", \"sun/security/ssl/*.*\"],"
            + " c2: { Exclude: false } }, { match: \"*.*\", c2: { Exclude: true } }]";

    private static final String DIAGNOSTIC_COMMAND = "com.sun.management:type=DiagnosticCommand";

    private static final Logger log = LoggerFactory.getLogger(OptimizingCompilerPolicy.class);

    private static boolean installed;

    @Override
    public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
        if (!event.getEnvironment().getProperty(PROPERTY, Boolean.class, false)) {
            keepC2Off();
        }
    }

    /** Installs the directive once per JVM, if C2 is in use next to C1; true when it is in place. */
    static synchronized boolean keepC2Off() {
        if (installed) {
            return true;
        }
        try {
            if (!c2BesideC1()) {
                return false;
            }
            addDirective(EXCLUDE_C2);
            installed = true;
            log.info("C2 is kept off (a compiler directive): the service runs on C1; {}=true keeps C2", PROPERTY);
            return true;
        } catch (IOException | JMException | RuntimeException e) {
            log.debug("C2 stays on: the compiler directive could not be installed", e);
            return false;
        }
    }

    private static boolean c2BesideC1() {
        HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        return hotSpot != null
                && Boolean.parseBoolean(hotSpot.getVMOption("TieredCompilation").getValue())
                && C2_LEVEL.equals(hotSpot.getVMOption("TieredStopAtLevel").getValue());
    }

    private static void addDirective(String directive) throws IOException, JMException {
        // the diagnostic command reads directives from a file only
        Path file = Files.createTempFile("blockpull-compiler-directive", ".json");
        try {
            Files.writeString(file, directive, StandardCharsets.UTF_8);
            String reply = diagnosticCommand("compilerDirectivesAdd", file.toString());
            if (!reply.contains("added")) {
                throw new IllegalStateException("Compiler.directives_add: " + reply.strip());
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Runs one of HotSpot's diagnostic commands (what jcmd runs) and returns what it printed. */
    static String diagnosticCommand(String operation, String... arguments) throws JMException {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Object out =
                server.invoke(new ObjectName(DIAGNOSTIC_COMMAND), operation, new Object[] {arguments}, new String[] {
                    String[].class.getName()
                });
        return out == null ? "" : out.toString();
    }
}
