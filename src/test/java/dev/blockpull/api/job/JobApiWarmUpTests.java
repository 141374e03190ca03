package dev.blockpull.api.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.ops.BlockpullProperties;
import dev.blockpull.testsupport.BlockpullHttpTest;
import jakarta.validation.Validator;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.json.JsonMapper;

/** The start-up warm-up of the job endpoints' JSON: its sample must pass the service's own strict mapper. */
@BlockpullHttpTest
class JobApiWarmUpTests {

    @Autowired
    JsonMapper json;

    @Autowired
    Validator validator;

    @Autowired
    BlockpullProperties properties;

    @Test
    void theSampleRequestIsReadValidatedAndItsJobWrittenByTheServicesMapper() {
        JobApiWarmUp warmUp = new JobApiWarmUp(json, validator, properties);

        assertThat(warmUp.warmUp()).isTrue();
    }
}
