package dev.blockpull.ops.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Structured JSON logs on demand: the {@code json-logs} profile (or
 * {@code LOGGING_STRUCTURED_FORMAT_CONSOLE}) turns every console line into one JSON object, and
 * the MDC keys the job floor sets ({@code jobId}, {@code node}) appear in it.
 */
@ExtendWith(OutputCaptureExtension.class)
class JsonLogsTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Logger log = LoggerFactory.getLogger("dev.blockpull.job.StreamJob");

    @Configuration(proxyBeanMethods = false)
    static class NothingElse {}

    /**
     * Spring Boot hands the format to Logback through the system property
     * CONSOLE_LOG_STRUCTURED_FORMAT and never clears it, and Logback keeps its last configuration:
     * put plain text back for the tests that run after this class in the same JVM.
     */
    @AfterEach
    void restorePlainTextLogs() {
        System.clearProperty("CONSOLE_LOG_STRUCTURED_FORMAT");
        System.clearProperty("FILE_LOG_STRUCTURED_FORMAT");
        start().close();
    }

    @Test
    void jsonLogsProfileWritesEcsLinesWithJobIdAndNode(CapturedOutput output) {
        JsonNode line = logWithMdc(output, "--spring.profiles.active=json-logs");

        assertThat(line.get("jobId").asString()).isEqualTo("job-42");
        assertThat(line.get("node").asString()).isEqualTo("top");
        assertThat(line.at("/log/level").asString()).isEqualTo("INFO");
        assertThat(line.at("/log/logger").asString()).isEqualTo("dev.blockpull.job.StreamJob");
        assertThat(line.at("/service/name").asString()).isEqualTo("blockpull");
        assertThat(line.at("/ecs/version").asString()).isNotBlank();
    }

    @Test
    void logstashFormatCarriesTheMdcToo(CapturedOutput output) {
        JsonNode line = logWithMdc(output, "--logging.structured.format.console=logstash");

        assertThat(line.get("jobId").asString()).isEqualTo("job-42");
        assertThat(line.get("node").asString()).isEqualTo("top");
        assertThat(line.get("level").asString()).isEqualTo("INFO");
    }

    @Test
    void withoutTheProfileLinesStayPlainText(CapturedOutput output) {
        try (ConfigurableApplicationContext ignored = start()) {
            log.info("plain line for the test");
        }

        assertThat(linesWith(output, "plain line for the test"))
                .singleElement()
                .satisfies(l -> assertThat(l).doesNotStartWith("{"));
    }

    private JsonNode logWithMdc(CapturedOutput output, String... args) {
        try (ConfigurableApplicationContext ignored = start(args)) {
            MDC.put("jobId", "job-42");
            MDC.put("node", "top");
            try {
                log.info("Job {} started on {}", "job-42", "top");
            } finally {
                MDC.remove("jobId");
                MDC.remove("node");
            }
        }
        List<String> lines = linesWith(output, "Job job-42 started on top");
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).startsWith("{").endsWith("}");
        JsonNode line = JSON.readTree(lines.get(0));
        assertThat(line.get("message").asString()).isEqualTo("Job job-42 started on top");
        return line;
    }

    private static ConfigurableApplicationContext start(String... args) {
        return new SpringApplicationBuilder(NothingElse.class)
                .web(WebApplicationType.NONE)
                .properties("spring.main.banner-mode=off")
                .run(args);
    }

    private static List<String> linesWith(CapturedOutput output, String text) {
        return output.getOut().lines().filter(l -> l.contains(text)).collect(Collectors.toList());
    }
}
