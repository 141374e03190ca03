package dev.blockpull.cli;

import java.io.PrintStream;

/** Shows a followed job as it goes: a redrawn bar on a terminal, a line per change elsewhere. */
interface ProgressDisplay {

    void show(JobProgress progress);

    /** Something worth a line of its own, such as an I/O error the job met. */
    void note(String text);

    /** The job is done following; leave the terminal on a fresh line. */
    void finish();

    static ProgressDisplay on(PrintStream out, boolean terminal) {
        return terminal ? new TerminalBar(out) : new ChangeLines(out);
    }

    /** One line, redrawn in place with a carriage return. */
    final class TerminalBar implements ProgressDisplay {

        private static final int WIDTH = 30;
        private final PrintStream out;
        private int drawnLength;

        TerminalBar(PrintStream out) {
            this.out = out;
        }

        @Override
        public void show(JobProgress p) {
            int filled = p.percent() * WIDTH / 100;
            String line = p.id() + " [" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + p.figures() + "  "
                    + p.status();
            // Pad over the rest of a longer previous line.
            out.print("\r" + line + " ".repeat(Math.max(0, drawnLength - line.length())));
            out.flush();
            drawnLength = line.length();
        }

        @Override
        public void note(String text) {
            out.print("\r" + " ".repeat(drawnLength) + "\r" + text + "\n");
            drawnLength = 0;
        }

        @Override
        public void finish() {
            if (drawnLength > 0) {
                out.println();
            }
            out.flush();
        }
    }

    /** For logs and pipes: a line whenever the status or the whole percent changes. */
    final class ChangeLines implements ProgressDisplay {

        private final PrintStream out;
        private String last = "";

        ChangeLines(PrintStream out) {
            this.out = out;
        }

        @Override
        public void show(JobProgress p) {
            String key = p.status() + " " + p.percent();
            if (!key.equals(last)) {
                out.println(p.id() + " " + p.status() + " " + p.figures().trim());
                last = key;
            }
        }

        @Override
        public void note(String text) {
            out.println(text);
        }

        @Override
        public void finish() {
            out.flush();
        }
    }
}
