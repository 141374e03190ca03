package dev.blockpull.testsupport;

import java.util.List;

/**
 * A finished external process: the command line, its exit code and everything it printed.
 */
public record ProcessResult(List<String> command, int exitCode, String stdout, String stderr) {

    public ProcessResult {
        command = List.copyOf(command);
    }

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** stdout and stderr together, for pattern checks and messages. */
    public String output() {
        if (stderr.isEmpty()) {
            return stdout;
        }
        if (stdout.isEmpty()) {
            return stderr;
        }
        return stdout + (stdout.endsWith("\n") ? "" : "\n") + stderr;
    }

    /** One line with the command, then the exit code and the output: what a failure message needs. */
    public String describe() {
        return "$ " + String.join(" ", command) + "\nexit code " + exitCode
                + (output().isBlank() ? " (no output)" : "\n" + output().stripTrailing());
    }
}
