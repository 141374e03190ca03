package dev.blockpull.ops;

import dev.blockpull.graph.NodeGraph;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobSchedulerSettings;
import dev.blockpull.stream.CopyPathWarmUp;
import dev.blockpull.stream.StreamLauncher;
import dev.blockpull.stream.StreamSettings;
import java.nio.file.Path;
import org.springframework.boot.ApplicationRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.DependsOn;

/**
 * The job scheduler and the stream launcher of the service, and the lifecycle that stops them
 * after HTTP has drained and before the graph closes its images.
 */
@Configuration(proxyBeanMethods = false)
class JobConfiguration {

    /**
     * Depends on the graph only for the order of destruction: beans are destroyed before what
     * they depend on, so a scheduler that was never stopped by its lifecycle (a failed start)
     * still winds its jobs up while their images are open.
     */
    @Bean(destroyMethod = "close")
    @DependsOn("nodeGraph")
    JobScheduler jobScheduler(BlockpullProperties properties) {
        BlockpullProperties.Jobs jobs = properties.jobs();
        return new JobScheduler(JobSchedulerSettings.defaults()
                .withHistory(jobs.historySize(), jobs.historyMaxAge())
                .withProgressInterval(jobs.progressInterval()));
    }

    @Bean
    StreamLauncher streamLauncher(NodeGraph graph, JobScheduler scheduler, BlockpullProperties properties) {
        return new StreamLauncher(
                graph,
                scheduler,
                streamSettings(properties.stream()),
                properties.stream().copierThreads());
    }

    private static StreamSettings streamSettings(BlockpullProperties.Stream stream) {
        long maxCopy = stream.maxCopySize().toBytes();
        if (maxCopy < StreamSettings.QEMU_CHUNK
                || maxCopy > StreamSettings.MAX_MERGED_COPY
                || maxCopy % StreamSettings.QEMU_CHUNK != 0) {
            throw new IllegalArgumentException(
                    "blockpull.stream.max-copy-size must be a multiple of 512KB from 512KB to 32MB: "
                            + stream.maxCopySize());
        }
        return StreamSettings.defaults().withCopies(stream.copiesInFlight(), (int) maxCopy);
    }

    /**
     * The copy path's warm-up, as an application runner: Spring Boot reports readiness only after
     * the runners, so no job of a user competes with it for the CPUs.
     */
    @Bean
    ApplicationRunner copyPathWarmUp(BlockpullProperties properties) {
        return args -> {
            if (properties.stream().warmUp()) {
                CopyPathWarmUp.run(
                        Path.of(System.getProperty("java.io.tmpdir")),
                        properties.io().direct(),
                        streamSettings(properties.stream()));
            }
        };
    }

    @Bean
    JobSchedulerLifecycle jobSchedulerLifecycle(
            JobScheduler scheduler, NodeGraph graph, BlockpullProperties properties) {
        return new JobSchedulerLifecycle(
                scheduler,
                graph,
                properties.jobs().shutdownTimeout(),
                properties.jobs().resumeOnStart());
    }
}
