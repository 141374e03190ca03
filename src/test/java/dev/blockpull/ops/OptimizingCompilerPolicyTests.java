package dev.blockpull.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.ServiceProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service started from its main keeps C2 off, unless told to keep it: the witness is the JVM's
 * own list of compiler directives ({@code jcmd PID Compiler.directives_print}), where an excluded
 * compiler shows {@code Exclude:true} in its section.
 */
class OptimizingCompilerPolicyTests {

    @TempDir
    Path dataRoot;

    @TempDir
    Path work;

    @Test
    void serviceExcludesEveryMethodFromC2() throws Exception {
        try (ServiceProcess service =
                ServiceProcess.start(dataRoot, work.resolve("service.log"), "--blockpull.stream.warm-up=false")) {
            assertThat(c2Sections(service))
                    .anySatisfy(section -> assertThat(section).contains("Exclude:true"));
        }
    }

    @Test
    void theJdksTlsAndCiphersKeepC2ForTheirIntrinsics() throws Exception {
        try (ServiceProcess service =
                ServiceProcess.start(dataRoot, work.resolve("service.log"), "--blockpull.stream.warm-up=false")) {
            String crypto = Pattern.compile(
                            "Directive:\\n matching: [^\\n]*com/sun/crypto/provider/.*?(?=Directive:)", Pattern.DOTALL)
                    .matcher(directives(service))
                    .results()
                    .map(m -> m.group())
                    .findFirst()
                    .orElse("");

            assertThat(crypto).contains("sun/security/ssl/");
            assertThat(c2Sections(crypto))
                    .singleElement()
                    .satisfies(c2 -> assertThat(c2).contains("Exclude:false"));
        }
    }

    @Test
    void optimizingCompilerCanBeKept() throws Exception {
        try (ServiceProcess service = ServiceProcess.start(
                dataRoot,
                work.resolve("service.log"),
                "--blockpull.stream.warm-up=false",
                "--" + OptimizingCompilerPolicy.PROPERTY + "=true")) {
            assertThat(c2Sections(service))
                    .isNotEmpty()
                    .allSatisfy(section -> assertThat(section).contains("Exclude:false"));
        }
    }

    /** The C2 part of every directive, from its "c2 directives:" line to the next blank line. */
    private static List<String> c2Sections(ServiceProcess service) throws IOException, InterruptedException {
        return c2Sections(directives(service));
    }

    private static List<String> c2Sections(String directives) {
        return Pattern.compile("c2 directives:\\n(.*?)\\n\\s*\\n", Pattern.DOTALL)
                .matcher(directives)
                .results()
                .map(m -> m.group(1))
                .toList();
    }

    /** What {@code jcmd PID Compiler.directives_print} prints. */
    private static String directives(ServiceProcess service) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(
                        ServiceProcess.jdkTool("jcmd"), Long.toString(service.pid()), "Compiler.directives_print")
                .redirectErrorStream(true)
                .start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(jcmd.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(jcmd.exitValue()).as(out).isZero();
        return out;
    }
}
