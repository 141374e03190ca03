package dev.blockpull.api;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.HostileNames.Kind;
import dev.blockpull.api.HostileNames.Name;
import dev.blockpull.format.BackingReference;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageCreator;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * Nothing outside the data root is named, opened or created through any endpoint that takes a
 * file name or a backing-file string, and no refusal shows where the data root lies on the host.
 * Besides the reported cases, every such endpoint gets the generated names of {@link HostileNames}.
 */
@BlockpullHttpTest(shared = false)
class ConfinementTests {

    private static final long MIB = 1024 * 1024;
    private static final long SEED = 16;
    private static final int PER_KIND = 4;

    @ServiceDataRoot
    static Path dataRoot;
    /** The data root's directory, the context's own: {@code outside} goes beside the root. */
    static Path tmp;

    @Autowired
    RestTestClient client;

    static Path root;
    static Path outside;
    static List<Name> names;
    static boolean opened;

    @BeforeAll
    static void layOutTheRootWithWaysOut() throws IOException {
        tmp = dataRoot.getParent();
        root = Files.createDirectories(tmp.resolve("data")).toRealPath();
        outside = Files.createDirectories(tmp.resolve("outside")).toRealPath();
        ImageCreator.create(outside.resolve("canary.qcow2"), CreateOptions.qcow2(MIB, null));
        Files.createSymbolicLink(root.resolve("esc-dir"), outside);
        Files.createSymbolicLink(root.resolve("esc-file.qcow2"), outside.resolve("canary.qcow2"));
        Files.createSymbolicLink(root.resolve("dangling.qcow2"), outside.resolve("missing.qcow2"));
        // at the top of the root, so that backing strings relative to the top reach the symlinks
        ImageCreator.create(root.resolve("base.qcow2"), CreateOptions.qcow2(MIB, null));
        ImageCreator.create(
                root.resolve("top.qcow2"),
                CreateOptions.qcow2(MIB, new BackingReference("base.qcow2", ImageFormat.QCOW2)));
        names = HostileNames.generate(SEED, PER_KIND, outside.toString());
    }

    @BeforeEach
    void openTheTopOnce() {
        if (opened) {
            return;
        }
        Reply opened = post("/nodes", Map.of("nodeName", "confTop", "driver", "qcow2", "file", "top.qcow2"));
        assertThat(opened.status()).as("setup: open top.qcow2 -> %s", opened).isEqualTo(201);
        ConfinementTests.opened = true;
    }

    // ------------------------------------------------------------------ the reported cases

    @Test
    void streamWithABackingFileOutsideTheRootIs400AndNothingIsWritten() {
        String before = backingOf(root.resolve("top.qcow2"));

        Reply r = post(
                "/jobs/stream",
                Map.of(
                        "jobId",
                        "escape",
                        "device",
                        "confTop",
                        "base",
                        "base.qcow2",
                        "backingFile",
                        "../outside/canary.qcow2"));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("outside the data root");
        assertThat(get("/jobs/stream/escape").status()).isEqualTo(404);
        assertThat(backingOf(root.resolve("top.qcow2"))).isEqualTo(before);
    }

    @Test
    void streamWithABackingFileInsideTheRootIsStillAccepted() {
        Reply r = post(
                "/jobs/stream",
                Map.of(
                        "jobId",
                        "inside",
                        "device",
                        "confTop",
                        "base",
                        "base.qcow2",
                        "backingFile",
                        "./base.qcow2",
                        "autoDismiss",
                        false));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        org.awaitility.Awaitility.await()
                .until(() -> "concluded".equals(get("/jobs/stream/inside").text("status")));
        assertThat(post("/jobs/stream/inside/dismiss", Map.of()).status()).isEqualTo(200);
        assertThat(backingOf(root.resolve("top.qcow2"))).isEqualTo("./base.qcow2");
    }

    @Test
    void createWithANameLongerThanTheFileSystemAllowsIs400NamingOnlyTheRelativeName() {
        String name = "long/" + "n".repeat(300) + ".qcow2";

        Reply r = post("/images", Map.of("filename", name, "format", "qcow2", "size", MIB));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("longer than 255 bytes").contains("'long/nnn");
        assertThat(r.raw()).doesNotContain(root.toString(), tmp.toString());
    }

    @Test
    void createWithAnUnpairedSurrogateInTheNameIs400() {
        Reply r = postJson("/images", "{\"filename\": \"\\ud800x.qcow2\", \"format\": \"qcow2\", \"size\": 1048576}");

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("unpaired UTF-16 surrogate").contains("\\ud800x.qcow2");
    }

    @Test
    void aNameWithAColonBeforeTheFirstSlashIsAProtocolPrefixAsInQemu() {
        Reply r = post("/images", Map.of("filename", "host_device:/dev/sda", "format", "raw", "size", MIB));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("protocol prefix").contains("./host_device:");
    }

    // ------------------------------------------------------------------ every endpoint, generated names

    @Test
    void createRefusesEveryHostileFileName() {
        assertEveryNameRefused(
                n -> postJson("/images", json(Map.of("filename", n.value(), "format", "qcow2", "size", MIB))), names);
    }

    @Test
    void createRefusesEveryHostileBackingFile() {
        assertEveryNameRefused(
                n -> postJson(
                        "/images",
                        json(Map.of(
                                "filename",
                                "new-" + n.seed() + ".qcow2",
                                "format",
                                "qcow2",
                                "backingFile",
                                n.value()))),
                names);
        assertThat(root).isDirectoryNotContaining("glob:**/new-*");
    }

    @Test
    void infoRefusesEveryHostileFileNameThatAUrlCanCarry() {
        assertEveryNameRefused(
                n -> Reply.of(
                        client.get().uri("/images/info?filename={f}", n.value()).exchange()),
                names.stream().filter(n -> !isSurrogate(n.kind())).toList());
    }

    @Test
    void openingANodeRefusesEveryHostileFileNameAsStringOrObject() {
        assertEveryNameRefused(
                n -> postJson("/nodes", json(Map.of("nodeName", "n" + n.seed(), "driver", "qcow2", "file", n.value()))),
                names);
        assertEveryNameRefused(
                n -> postJson(
                        "/nodes",
                        json(Map.of(
                                "nodeName",
                                "o" + n.seed(),
                                "driver",
                                "raw",
                                "file",
                                Map.of("driver", "file", "filename", n.value())))),
                names);
    }

    @Test
    void snapshotRefusesEveryHostileOverlayName() {
        assertEveryNameRefused(
                n -> postJson(
                        "/nodes/confTop/snapshot",
                        json(Map.of("snapshotFile", n.value(), "snapshotNodeName", "s" + n.seed()))),
                names);
        assertThat(get("/nodes/confTop").status()).isEqualTo(200);
    }

    @Test
    void streamRefusesEveryHostileBaseOrBackingFile() {
        assertEveryNameRefused(
                n -> postJson(
                        "/jobs/stream",
                        json(Map.of(
                                "jobId",
                                "j" + n.seed(),
                                "device",
                                "confTop",
                                "base",
                                "base.qcow2",
                                "backingFile",
                                n.value()))),
                names);
        assertEveryNameRefused(
                n -> postJson(
                        "/jobs/stream", json(Map.of("jobId", "b" + n.seed(), "device", "confTop", "base", n.value()))),
                names);
    }

    @Test
    void hostileBackingStringsInsideImagesAreRefusedByInfoAndByOpen() throws IOException {
        List<Name> stored = new ArrayList<>();
        for (Name n : names) {
            if (n.kind().fitsInAHeader()) {
                ImageCreator.create(
                        root.resolve("bad-" + n.seed() + ".qcow2"),
                        CreateOptions.qcow2(MIB, new BackingReference(n.value(), ImageFormat.QCOW2)));
                stored.add(n);
            }
        }
        assertThat(stored).hasSizeGreaterThan(40);

        assertEveryNameRefused(n -> get("/images/info?filename=bad-" + n.seed() + ".qcow2"), stored);
        assertEveryNameRefused(
                n -> post(
                        "/nodes",
                        Map.of("nodeName", "bad" + n.seed(), "driver", "qcow2", "file", "bad-" + n.seed() + ".qcow2")),
                stored);
    }

    // ------------------------------------------------------------------ helpers

    /** Each name's answer is a 400 problem that does not show the data root, and nothing changed outside. */
    private void assertEveryNameRefused(Function<Name, Reply> call, List<Name> tried) {
        List<String> before = listing(outside);
        SoftAssertions soft = new SoftAssertions();
        for (Name n : tried) {
            Reply r = call.apply(n);
            soft.assertThat(r.status())
                    .as("%s %s -> %s", n, printable(n.value()), r)
                    .isEqualTo(400);
            soft.assertThat(r.contentType()).as("%s content type", n).startsWith("application/problem+json");
            soft.assertThat(r.raw()).as("%s body", n).doesNotContain(root.toString());
        }
        soft.assertAll();
        assertThat(listing(outside)).as("the directory outside the root").isEqualTo(before);
        assertThat(backingOf(outside.resolve("canary.qcow2"))).isNull();
    }

    private static boolean isSurrogate(Kind kind) {
        return kind == Kind.LONE_HIGH_SURROGATE || kind == Kind.LONE_LOW_SURROGATE || kind == Kind.REVERSED_SURROGATES;
    }

    private static List<String> listing(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.map(p -> dir.relativize(p) + ":" + sizeOf(p)).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    private static String backingOf(Path image) {
        try (Image i = ImageOpener.open(image, ImageFormat.QCOW2, true)) {
            return i.backing().map(BackingReference::fileName).orElse(null);
        }
    }

    private Reply post(String uri, Object body) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }

    /** Posts JSON text as is: lone surrogates cannot pass through a JSON writer, only as escapes. */
    private Reply postJson(String uri, String json) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(json)
                .exchange());
    }

    private Reply get(String uri) {
        return Reply.of(client.get().uri(uri).exchange());
    }

    /** A JSON object of strings, numbers and nested maps, every non-ASCII character as an escape. */
    private static String json(Map<String, ?> map) {
        StringBuilder sb = new StringBuilder("{");
        map.forEach((k, v) -> {
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append(jsonValue(k)).append(':').append(v instanceof Map<?, ?> m ? json(castMap(m)) : jsonValue(v));
        });
        return sb.append('}').toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> castMap(Map<?, ?> m) {
        return (Map<String, ?>) m;
    }

    private static String jsonValue(Object v) {
        if (!(v instanceof String s)) {
            return String.valueOf(v);
        }
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    private static String printable(String s) {
        String p = jsonValue(s);
        return p.length() > 120 ? p.substring(0, 120) + "..." : p;
    }
}
