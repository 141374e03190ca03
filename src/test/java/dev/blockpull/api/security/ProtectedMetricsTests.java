package dev.blockpull.api.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.test.web.servlet.client.RestTestClient;

/** {@code blockpull.security.protect-metrics=true}: Prometheus must send the token too; probes still need none. */
@BlockpullHttpTest(
        properties = {"blockpull.security.token=metrics-token-0123456789", "blockpull.security.protect-metrics=true"})
class ProtectedMetricsTests {

    @Autowired
    RestTestClient client;

    @Test
    void prometheusWithoutTheTokenIs401() {
        Reply r = Reply.of(client.get().uri("/actuator/prometheus").exchange());

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.headers().getFirst(HttpHeaders.WWW_AUTHENTICATE)).startsWith("Bearer");
    }

    @Test
    void prometheusWithTheTokenIsScraped() {
        Reply r = Reply.of(client.get()
                .uri("/actuator/prometheus")
                .header(HttpHeaders.AUTHORIZATION, "Bearer metrics-token-0123456789")
                .exchange());

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.raw()).contains("application=\"blockpull\"");
    }

    @Test
    void probesStillNeedNoToken() {
        assertThat(Reply.of(client.get().uri("/actuator/health/readiness").exchange())
                        .status())
                .isEqualTo(200);
        assertThat(Reply.of(client.get().uri("/actuator/health/liveness").exchange())
                        .status())
                .isEqualTo(200);
    }
}
