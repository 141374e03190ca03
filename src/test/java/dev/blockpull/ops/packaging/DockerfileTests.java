package dev.blockpull.ops.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile follows conventions.md §9. No Docker engine runs in CI, so the rules are checked
 * on the parsed instructions here, and .ci/boot-extracted-layers proves that the layers it copies
 * start the application.
 */
class DockerfileTests {

    static final Path DOCKERFILE = Path.of("Dockerfile");
    static final List<String> LAYERS =
            List.of("dependencies", "spring-boot-loader", "snapshot-dependencies", "application");

    record Instruction(int stage, String keyword, String args) {}

    static List<Instruction> parse(Path file) throws IOException {
        List<Instruction> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int stage = -1;
        for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String line = raw.strip();
            if (current.isEmpty() && (line.isEmpty() || line.startsWith("#"))) {
                continue;
            }
            if (!current.isEmpty() && line.startsWith("#")) {
                continue; // comment lines inside a continued instruction are dropped by Docker too
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            current.append(line);
            String text = current.toString().strip();
            current.setLength(0);
            String[] parts = text.split("\\s+", 2);
            String keyword = parts[0].toUpperCase(Locale.ROOT);
            if (keyword.equals("FROM")) {
                stage++;
            }
            instructions.add(new Instruction(stage, keyword, parts.length > 1 ? parts[1].replaceAll("\\s+", " ") : ""));
        }
        return instructions;
    }

    static List<Instruction> all(String keyword) throws IOException {
        return parse(DOCKERFILE).stream()
                .filter(i -> i.keyword().equals(keyword))
                .collect(Collectors.toList());
    }

    static List<Instruction> runtime() throws IOException {
        List<Instruction> instructions = parse(DOCKERFILE);
        int last = instructions.get(instructions.size() - 1).stage();
        return instructions.stream().filter(i -> i.stage() == last).collect(Collectors.toList());
    }

    @Test
    void buildsWithTheJdkAndRunsOnTheJre() throws IOException {
        List<Instruction> from = all("FROM");

        assertThat(from)
                .extracting(Instruction::args)
                .containsExactly("eclipse-temurin:17-jdk AS build", "eclipse-temurin:17-jre");
    }

    @Test
    void buildStagePackagesWithTheWrapperAndExtractsTheLayersWithTheToolsJarMode() throws IOException {
        String run = parse(DOCKERFILE).stream()
                .filter(i -> i.stage() == 0 && i.keyword().equals("RUN"))
                .map(Instruction::args)
                .collect(Collectors.joining(" && "));

        assertThat(run)
                .contains("./mvnw -B -q -DskipTests package")
                .contains("java -Djarmode=tools -jar app.jar extract --layers --launcher --destination extracted");
        assertThat(run.indexOf("package")).isLessThan(run.indexOf("extract"));
    }

    @Test
    void layersAreCopiedInChangeOrder() throws IOException {
        List<String> copied = new ArrayList<>();
        Pattern layer = Pattern.compile("--from=build /build/extracted/([a-z-]+)/ \\./");
        for (Instruction copy : runtime()) {
            if (copy.keyword().equals("COPY") && copy.args().contains("/build/extracted/")) {
                Matcher m = layer.matcher(copy.args());
                assertThat(m.matches())
                        .as("runtime COPY copies one extracted layer: %s", copy.args())
                        .isTrue();
                copied.add(m.group(1));
            }
        }

        assertThat(copied).containsExactlyElementsOf(LAYERS);
    }

    @Test
    void theImageHasTheCliOnThePathAfterTheApplicationLayer() throws IOException {
        List<String> copies = runtime().stream()
                .filter(i -> i.keyword().equals("COPY"))
                .map(Instruction::args)
                .collect(Collectors.toList());

        assertThat(copies)
                .containsSubsequence(
                        "--from=build /build/extracted/application/ ./",
                        "--from=build /build/target/cli/blockpull-cli.jar ./cli/",
                        "src/main/docker/blockpull /usr/local/bin/blockpull");
        Path launcher = Path.of("src/main/docker/blockpull");
        assertThat(Files.isExecutable(launcher))
                .as("the launcher keeps its mode in the image")
                .isTrue();
        assertThat(Files.readString(launcher))
                .contains("-jar /app/cli/blockpull-cli.jar \"$@\"")
                .contains("env -u JAVA_TOOL_OPTIONS");
    }

    @Test
    void startsTheExplodedLauncherWithTheDataRootOnTheMountPoint() throws IOException {
        List<Instruction> entrypoint = all("ENTRYPOINT");

        assertThat(entrypoint).hasSize(1);
        assertThat(entrypoint.get(0).args())
                .as("exec form, so that java is PID 1 and gets SIGTERM")
                .isEqualTo("[\"java\", \"org.springframework.boot.loader.launch.JarLauncher\", "
                        + "\"--blockpull.data-root=/data\"]");
        assertThat(all("CMD")).isEmpty();
    }

    @Test
    void runsAsANumericNonRootUser() throws IOException {
        List<Instruction> runtime = runtime();
        List<Instruction> users =
                runtime.stream().filter(i -> i.keyword().equals("USER")).collect(Collectors.toList());

        assertThat(users).hasSize(1);
        assertThat(users.get(0).args()).matches("\\d+(:\\d+)?");
        assertThat(Arrays.stream(users.get(0).args().split(":")).mapToInt(Integer::parseInt))
                .doesNotContain(0);
        assertThat(users.get(0).args()).isEqualTo("10001:10001").as("the chart's runAsUser/runAsGroup");
        assertThat(runtime.indexOf(users.get(0)))
                .as("USER comes after the last RUN and before ENTRYPOINT")
                .isGreaterThan(lastIndexOf(runtime, "RUN"))
                .isLessThan(lastIndexOf(runtime, "ENTRYPOINT"));
    }

    @Test
    void exposesHttpAndNbd() throws IOException {
        assertThat(all("EXPOSE")).extracting(Instruction::args).containsExactly("8080 10809");
    }

    @Test
    void jvmBoundsHeapAndDirectMemoryAndExitsOnOutOfMemory() throws IOException {
        String env = all("ENV").stream().map(Instruction::args).collect(Collectors.joining(" "));

        assertThat(env)
                .contains("JAVA_TOOL_OPTIONS=\"")
                .contains("-Xmx256m")
                .contains("-XX:MaxDirectMemorySize=192m")
                .contains("-XX:+ExitOnOutOfMemoryError");
    }

    @Test
    void jvmRunsTheDataPathAtNiceTenBelowTheRequests() throws IOException {
        assertThat(jvmOptions())
                .as("DaemonThreads' MIN_PRIORITY becomes nice 10 only with both")
                .contains("-XX:ThreadPriorityPolicy=1", "-XX:JavaPriority1_To_OSPriority=10");
    }

    @Test
    void jvmOptionsAreThoseSpringBootRunAndTheLoadBenchUse() throws IOException {
        Matcher pom =
                Pattern.compile("<jvmArguments>(.*)</jvmArguments>").matcher(Files.readString(Path.of("pom.xml")));

        assertThat(pom.find()).as("jvmArguments in pom.xml").isTrue();
        assertThat(List.of(pom.group(1).trim().split("\\s+"))).isEqualTo(jvmOptions());
    }

    /** The options of the image's JAVA_TOOL_OPTIONS, in order. */
    private static List<String> jvmOptions() throws IOException {
        Matcher image = Pattern.compile("JAVA_TOOL_OPTIONS=\"([^\"]*)\"")
                .matcher(all("ENV").stream().map(Instruction::args).collect(Collectors.joining(" ")));
        assertThat(image.find()).as("JAVA_TOOL_OPTIONS in the Dockerfile").isTrue();
        return List.of(image.group(1).trim().split("\\s+"));
    }

    @Test
    void jvmLeavesTheOptimizingCompilerToTheServicesOwnPolicy() throws IOException {
        String env = all("ENV").stream().map(Instruction::args).collect(Collectors.joining(" "));

        assertThat(env)
                .as("OptimizingCompilerPolicy keeps C2 off all but TLS and ciphers; TieredStopAtLevel=1 "
                        + "would take it from AES-GCM too")
                .doesNotContain("TieredStopAtLevel");
    }

    @Test
    void healthCheckAsksTheImagesCliForLivenessOnTheServicesPort() throws IOException {
        List<Instruction> checks = runtime().stream()
                .filter(i -> i.keyword().equals("HEALTHCHECK"))
                .collect(Collectors.toList());

        assertThat(checks).hasSize(1);
        assertThat(checks.get(0).args())
                .as("liveness: a busy service (readiness DOWN during a long drain) is not "
                        + "unhealthy, and the health paths need no token")
                .startsWith("--interval=60s --timeout=10s --retries=3 CMD blockpull ")
                .contains("--url \"http://127.0.0.1:${SERVER_PORT:-8080}\"")
                .endsWith(" health liveness || exit 1");
    }

    @Test
    void ociLabelsAreFilledByBuildArgumentsDeclaredAfterTheLayers() throws IOException {
        List<Instruction> runtime = runtime();
        Map<String, String> labels = new LinkedHashMap<>();
        for (Instruction label : runtime) {
            if (label.keyword().equals("LABEL")) {
                Matcher m = Pattern.compile("(\\S+?)=\"([^\"]*)\"").matcher(label.args());
                while (m.find()) {
                    labels.put(m.group(1), m.group(2));
                }
            }
        }
        Map<String, String> args = runtime.stream()
                .filter(i -> i.keyword().equals("ARG"))
                .map(i -> i.args().split("=", 2))
                .collect(Collectors.toMap(a -> a[0], a -> a.length > 1 ? a[1].replace("\"", "") : ""));

        assertThat(labels)
                .containsEntry("org.opencontainers.image.version", "${VERSION}")
                .containsEntry("org.opencontainers.image.revision", "${REVISION}")
                .containsEntry("org.opencontainers.image.created", "${CREATED}")
                .containsEntry("org.opencontainers.image.licenses", "${LICENSES}")
                .containsEntry("org.opencontainers.image.title", "blockpull")
                .containsKey("org.opencontainers.image.source");
        assertThat(args).containsOnlyKeys("VERSION", "REVISION", "CREATED", "LICENSES");
        assertThat(args.get("VERSION")).as("the default is the POM's version").isEqualTo(PomVersion.read());
        assertThat(args.get("LICENSES"))
                .as("SPDX for 'not stated'; the build passes the real one")
                .isEqualTo("NOASSERTION");
        assertThat(firstIndexOf(runtime, "ARG"))
                .as("ARGs after the last COPY keep the layers cacheable")
                .isGreaterThan(lastIndexOf(runtime, "COPY"));
    }

    @Test
    void declaresNoVolumeButPreparesTheDataRootForTheUser() throws IOException {
        String runs = runtime().stream()
                .filter(i -> i.keyword().equals("RUN"))
                .map(Instruction::args)
                .collect(Collectors.joining(" "));

        assertThat(all("VOLUME")).isEmpty();
        assertThat(runs).contains("mkdir -p /data").contains("chown 10001:10001 /data");
    }

    @Test
    void buildContextHoldsOnlyWhatTheBuildCopies() throws IOException {
        List<String> ignore = Files.readAllLines(Path.of(".dockerignore")).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .collect(Collectors.toList());
        List<String> copiedSources = parse(DOCKERFILE).stream()
                .filter(i -> i.stage() == 0 && i.keyword().equals("COPY"))
                .flatMap(i -> {
                    String[] words = i.args().split(" ");
                    return Arrays.stream(words, 0, words.length - 1);
                })
                .collect(Collectors.toList());

        assertThat(ignore.get(0)).as("deny everything first, then allow").isEqualTo("*");
        for (String source : copiedSources) {
            assertThat(ignore)
                    .as("%s is allowed into the build context", source)
                    .contains("!" + source);
        }
        assertThat(ignore).contains("src/test/ui/node_modules/");
    }

    /**
     * {@code dockerfilelint} (npm) lints it too when src/test/ui has its node modules (.ci/run
     * installs them); without them the lint is skipped, except in CI, where it must run.
     */
    @Test
    void dockerfilelintFindsNoIssues() throws Exception {
        Path lint = Path.of("src/test/ui/node_modules/.bin/dockerfilelint");
        if (!Files.isExecutable(lint)) {
            String message = "dockerfilelint not installed: run `npm ci --prefix src/test/ui` (.ci/run does)";
            assertThat("true".equals(System.getenv("CI"))).as(message).isFalse();
            System.err.println("SKIPPED: " + message);
            Assumptions.abort(message);
        }
        Process p = new ProcessBuilder(lint.toString(), "--output", "json", DOCKERFILE.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(Duration.ofMinutes(1).toMillis(), TimeUnit.MILLISECONDS))
                .isTrue();

        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("\"issues_count\":0");
    }

    private static int firstIndexOf(List<Instruction> instructions, String keyword) {
        for (int i = 0; i < instructions.size(); i++) {
            if (instructions.get(i).keyword().equals(keyword)) {
                return i;
            }
        }
        return -1;
    }

    private static int lastIndexOf(List<Instruction> instructions, String keyword) {
        for (int i = instructions.size() - 1; i >= 0; i--) {
            if (instructions.get(i).keyword().equals(keyword)) {
                return i;
            }
        }
        return -1;
    }
}
