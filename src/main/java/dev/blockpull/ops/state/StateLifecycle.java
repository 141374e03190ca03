package dev.blockpull.ops.state;

import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.SmartLifecycle;

/**
 * Restores the recorded state before the web server and the NBD server start taking requests
 * (so no request races the restore) and stops recording before the job scheduler parks the jobs
 * at shutdown (so the jobs stay recorded as they were).
 */
final class StateLifecycle implements SmartLifecycle {

    /** Just above the job scheduler's lifecycle: started after it, stopped before it. */
    static final int PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 4096 + 1;

    private final StateFile file;
    private final StateRestorer restorer;
    private final StateRecorder recorder;
    private volatile boolean running;

    StateLifecycle(StateFile file, StateRestorer restorer, StateRecorder recorder) {
        this.file = file;
        this.restorer = restorer;
        this.recorder = recorder;
    }

    @Override
    public void start() {
        ServiceState state = file.read().orElse(ServiceState.empty());
        recorder.startRecording(restorer.restore(state));
        running = true;
    }

    @Override
    public void stop() {
        recorder.stopRecording();
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
