package dev.blockpull.ops.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The project's version as pom.xml declares it: the Dockerfile and the chart must carry the same. */
final class PomVersion {

    /** The first {@code <version>} after the parent's is the project's own. */
    private static final Pattern VERSION = Pattern.compile("</parent>.*?<version>([^<]+)</version>", Pattern.DOTALL);

    private PomVersion() {}

    static String read() throws IOException {
        Matcher m = VERSION.matcher(Files.readString(Path.of("pom.xml")));
        assertThat(m.find()).as("pom.xml has a project version").isTrue();
        return m.group(1);
    }
}
