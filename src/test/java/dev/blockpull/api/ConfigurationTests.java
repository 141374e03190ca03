package dev.blockpull.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.ops.BlockpullProperties;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** The {@code blockpull.*} settings bind with the contract's names and defaults, and bad values stop start-up. */
class ConfigurationTests {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(BlockpullProperties.class)
    static class PropertiesOnly {}

    private final ApplicationContextRunner runner =
            new ApplicationContextRunner().withUserConfiguration(PropertiesOnly.class);

    @Test
    void defaultsAreTheContractsDefaults() {
        runner.run(context -> {
            BlockpullProperties p = context.getBean(BlockpullProperties.class);
            assertThat(p.dataRoot().normalize()).isEqualTo(Path.of("data"));
            assertThat(p.nbd().port()).isEqualTo(10809);
            assertThat(p.io().direct()).isFalse();
            assertThat(p.security().token()).isNull();
            assertThat(p.jobs().historySize()).isEqualTo(1000);
            assertThat(p.graph().maxChainDepth()).isEqualTo(64);
            assertThat(p.http().maxRequestSize().toBytes()).isEqualTo(1024 * 1024);
            assertThat(p.stream().copierThreads()).isEqualTo(32);
            assertThat(p.debug().faultInjection())
                    .as("fault injection is off unless asked for")
                    .isFalse();
        });
    }

    @Test
    void kebabCaseKeysBind() {
        runner.withPropertyValues(
                        "blockpull.data-root=/srv/images",
                        "blockpull.nbd.port=0",
                        "blockpull.io.direct=true",
                        "blockpull.security.token=s3cret",
                        "blockpull.jobs.history-size=5",
                        "blockpull.graph.max-chain-depth=8",
                        "blockpull.http.max-request-size=64KB",
                        "blockpull.nbd.max-connections=10",
                        "blockpull.nbd.max-connections-per-client=3",
                        "blockpull.nbd.handshake-timeout=2s",
                        "blockpull.nbd.busy-poll=20us",
                        "blockpull.stream.copier-threads=4",
                        "blockpull.debug.fault-injection=true")
                .run(context -> {
                    BlockpullProperties p = context.getBean(BlockpullProperties.class);
                    assertThat(p.dataRoot()).isEqualTo(Path.of("/srv/images"));
                    assertThat(p.nbd().port()).isZero();
                    assertThat(p.io().direct()).isTrue();
                    assertThat(p.security().token()).isEqualTo("s3cret");
                    assertThat(p.jobs().historySize()).isEqualTo(5);
                    assertThat(p.graph().maxChainDepth()).isEqualTo(8);
                    assertThat(p.http().maxRequestSize().toBytes()).isEqualTo(64 * 1024);
                    assertThat(p.nbd().maxConnections()).isEqualTo(10);
                    assertThat(p.nbd().maxConnectionsPerClient()).isEqualTo(3);
                    assertThat(p.nbd().handshakeTimeout()).isEqualTo(java.time.Duration.ofSeconds(2));
                    assertThat(p.nbd().busyPoll()).isEqualTo(java.time.Duration.ofNanos(20_000));
                    assertThat(p.stream().copierThreads()).isEqualTo(4);
                    assertThat(p.debug().faultInjection()).isTrue();
                });
    }

    @Test
    void environmentVariablesBindAsTheContractNamesThem() {
        Map<String, Object> env = Map.of(
                "BLOCKPULL_DATA_ROOT",
                "/srv/env",
                "BLOCKPULL_NBD_PORT",
                "0",
                "BLOCKPULL_JOBS_HISTORY_SIZE",
                "7",
                "BLOCKPULL_GRAPH_MAX_CHAIN_DEPTH",
                "9");
        runner.withInitializer(context -> context.getEnvironment()
                        .getPropertySources()
                        .addFirst(new SystemEnvironmentPropertySource(
                                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, env)))
                .run(context -> {
                    BlockpullProperties p = context.getBean(BlockpullProperties.class);
                    assertThat(p.dataRoot()).isEqualTo(Path.of("/srv/env"));
                    assertThat(p.nbd().port()).isZero();
                    assertThat(p.jobs().historySize()).isEqualTo(7);
                    assertThat(p.graph().maxChainDepth()).isEqualTo(9);
                });
    }

    @Test
    void anOutOfRangePortStopsStartUp() {
        runner.withPropertyValues("blockpull.nbd.port=70000")
                .run(context ->
                        assertThat(context).hasFailed().getFailure().rootCause().hasMessageContaining("nbd.port"));
    }

    @Test
    void zeroCopierThreadsStopStartUp() {
        runner.withPropertyValues("blockpull.stream.copier-threads=0")
                .run(context ->
                        assertThat(context).hasFailed().getFailure().rootCause().hasMessageContaining("copierThreads"));
    }

    @Test
    void aBusyPollOverAMillisecondStopsStartUp() {
        runner.withPropertyValues("blockpull.nbd.busy-poll=2ms")
                .run(context ->
                        assertThat(context).hasFailed().getFailure().rootCause().hasMessageContaining("busyPoll"));
    }

    @Test
    void aZeroHistorySizeStopsStartUp() {
        runner.withPropertyValues("blockpull.jobs.history-size=0")
                .run(context -> assertThat(context).hasFailed());
    }
}
