package dev.blockpull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.ProcessResult;
import dev.blockpull.testsupport.QemuTools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs the real CLI jar as a child process ({@code java -jar target/cli/blockpull-cli.jar}), with
 * the environment given, stdin closed and no terminal: what a script sees.
 */
final class CliProcess {

    /** Made by {@code ./mvnw process-classes}, so it is there for every test run. */
    static final Path JAR = Path.of("target/cli/blockpull-cli.jar");

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Map<String, String> environment;

    private CliProcess(Map<String, String> environment) {
        this.environment = environment;
    }

    /** The CLI pointed at a service by BLOCKPULL_URL. */
    static CliProcess against(int port) {
        return withEnvironment(Map.of("BLOCKPULL_URL", "http://127.0.0.1:" + port));
    }

    static CliProcess withEnvironment(Map<String, String> environment) {
        assertThat(JAR).as("the CLI jar; build it with ./mvnw process-classes").isRegularFile();
        return new CliProcess(environment);
    }

    ProcessResult run(String... args) {
        List<String> command = new ArrayList<>(List.of("env"));
        environment.forEach((name, value) -> command.add(name + "=" + value));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // The container launcher's start-up flags: the C1 compiler alone suits a short run.
        command.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar"));
        command.add(JAR.toString());
        command.addAll(List.of(args));
        return QemuTools.run(command, TIMEOUT);
    }
}
