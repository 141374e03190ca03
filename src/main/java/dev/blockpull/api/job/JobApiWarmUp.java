package dev.blockpull.api.job;

import dev.blockpull.job.IoStatus;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.ops.BlockpullProperties;
import jakarta.validation.Validator;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads, validates and writes once, at start-up, what {@code POST /jobs/stream} and the job
 * queries read, validate and write, with the service's own mapper and validator. Their first use
 * builds Jackson's deserializer and serializers and the validator's constraint metadata for
 * these types: profiled, that took ~35 ms of CPU on the request thread of the first stream job,
 * next to the job it started. Runs with the copy path's warm-up ({@code blockpull.stream.warm-up});
 * nothing of it is visible.
 */
@Component
class JobApiWarmUp implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger(JobApiWarmUp.class);
    private static final String REQUEST = """
            {"jobId": "warm-up", "device": "top", "baseNode": "base", "speed": 0, "onError": "report",
             "autoFinalize": true, "autoDismiss": false}""";

    private final JsonMapper json;
    private final Validator validator;
    private final boolean enabled;

    JobApiWarmUp(JsonMapper json, Validator validator, BlockpullProperties properties) {
        this.json = json;
        this.validator = validator;
        this.enabled = properties.stream().warmUp();
    }

    @Override
    public void run(ApplicationArguments args) {
        if (enabled) {
            warmUp();
        }
    }

    /** Whether the sample request was read, found valid and its job written; never throws. */
    boolean warmUp() {
        try {
            StartStreamRequest request = json.readValue(REQUEST, StartStreamRequest.class);
            if (!validator.validate(request).isEmpty()) {
                throw new IllegalStateException("its request is invalid: " + validator.validate(request));
            }
            json.writeValueAsBytes(JobResponse.of(sampleView(request)));
            return true;
        } catch (RuntimeException e) {
            log.warn("Job API warm-up skipped: {}", e.toString());
            return false;
        }
    }

    private static JobView sampleView(StartStreamRequest request) {
        Instant now = Instant.now();
        return new JobView(
                "warm-up",
                "stream",
                JobStatus.RUNNING,
                String.valueOf(request.device()),
                1 << 20,
                8 << 20,
                0,
                true,
                false,
                IoStatus.OK,
                false,
                null,
                null,
                1 << 20,
                7L,
                now,
                null,
                true,
                false,
                1,
                0,
                null,
                false);
    }
}
