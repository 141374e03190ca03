package dev.blockpull.ops.state;

import dev.blockpull.graph.NodeGraph;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.nbd.ExportRegistry;
import dev.blockpull.ops.BlockpullProperties;
import dev.blockpull.stream.StreamLauncher;
import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The state store in {@code blockpull.state-dir}, its recorder, and the restore at start-up. */
@Configuration(proxyBeanMethods = false)
class StateConfiguration {

    @Bean
    StateFile stateFile(BlockpullProperties properties) {
        return new StateFile(properties.stateDirectory());
    }

    @Bean(destroyMethod = "close")
    StateRecorder stateRecorder(StateFile file, NodeGraph graph, JobScheduler scheduler, StreamLauncher launcher) {
        StateRecorder recorder = new StateRecorder(file, graph, scheduler);
        launcher.addStartListener(recorder);
        return recorder;
    }

    @Bean
    StateLifecycle stateLifecycle(
            StateFile file,
            StateRecorder recorder,
            NodeGraph graph,
            ExportRegistry exports,
            StreamLauncher launcher,
            JobScheduler scheduler,
            BlockpullProperties properties) {
        StateRestorer restorer = new StateRestorer(
                graph,
                exports,
                launcher,
                scheduler,
                properties.jobs().resumeOnStart(),
                properties.graph().maxDrainWait(),
                Clock.systemUTC());
        return new StateLifecycle(file, restorer, recorder);
    }
}
