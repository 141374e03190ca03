package dev.blockpull.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * The disk that fills up is the data root's: Spring's disk-space health component and disk
 * metrics watch {@code blockpull.data-root}, not the working directory the service started in.
 */
@BlockpullHttpTest
class DataRootDiskSpaceTests {

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    @Test
    void diskSpaceHealthWatchesTheDataRoot() {
        JsonNode diskSpace =
                Reply.of(client.get().uri("/actuator/health").exchange()).body().at("/components/diskSpace");

        assertThat(diskSpace.get("status").asString()).isEqualTo("UP");
        assertThat(diskSpace.at("/details/path").asString())
                .isEqualTo(dataRoot.toAbsolutePath().toString());
        assertThat(diskSpace.at("/details/exists").asBoolean()).isTrue();
    }

    @Test
    void diskMetricsWatchOnlyTheDataRoot() {
        String scrape =
                Reply.of(client.get().uri("/actuator/prometheus").exchange()).raw();
        String path = Pattern.quote(dataRoot.toAbsolutePath().toString());

        assertThat(scrape)
                .containsPattern("(?m)^disk_free_bytes\\{[^}]*path=\"" + path + "\"[^}]*} [0-9]")
                .containsPattern("(?m)^disk_total_bytes\\{[^}]*path=\"" + path + "\"[^}]*} [0-9]");
        assertThat(scrape.lines().filter(l -> l.startsWith("disk_free_bytes{"))).hasSize(1);
    }
}
