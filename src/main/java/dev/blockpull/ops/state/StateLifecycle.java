package dev.blockpull.ops.state;

import dev.blockpull.ops.PhasedLifecycle;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;

/**
 * Restores the recorded state before the web server and the NBD server start taking requests
 * (so no request races the restore) and stops recording before the job scheduler parks the jobs
 * at shutdown (so the jobs stay recorded as they were).
 */
final class StateLifecycle extends PhasedLifecycle {

    /** Just above the job scheduler's lifecycle: started after it, stopped before it. */
    static final int PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 4096 + 1;

    private final StateFile file;
    private final StateRestorer restorer;
    private final StateRecorder recorder;

    StateLifecycle(StateFile file, StateRestorer restorer, StateRecorder recorder) {
        super(PHASE);
        this.file = file;
        this.restorer = restorer;
        this.recorder = recorder;
    }

    @Override
    protected void onStart() {
        ServiceState state = file.read().orElse(ServiceState.empty());
        recorder.startRecording(restorer.restore(state));
    }

    @Override
    protected void onStop() {
        recorder.stopRecording();
    }
}
