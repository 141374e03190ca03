package dev.blockpull.api.image;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.CheckResult;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * {@code /images} over a real port, with qemu-img and qemu-io as the judges of what was written.
 * Each test works in its own subdirectory of the shared data root.
 */
@BlockpullHttpTest
class ImageApiTests {

    static final long MiB = 1024 * 1024;

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    QemuTools qemu;

    @BeforeEach
    void oracles() {
        qemu = QemuTools.require();
    }

    Reply post(Map<String, ?> body) {
        return Reply.of(client.post()
                .uri("/images")
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }

    /** A setup step: the image must be created, or the test stops here with the reason. */
    Reply created(Map<String, ?> body) {
        Reply r = post(body);
        assertThat(r.status()).as("setup POST /images %s -> %s", body, r).isEqualTo(201);
        return r;
    }

    /** A directory under the data root, for images made by qemu-img. */
    Path dir(String name) throws IOException {
        return Files.createDirectories(dataRoot.resolve(name));
    }

    Reply get(String uri) {
        return Reply.of(client.get().uri(uri).exchange());
    }

    Path file(String name) {
        return dataRoot.resolve(name);
    }

    @Test
    void createQcow2Is201WithLocationAndTheInfoBody() {
        Reply r = post(Map.of("filename", "create/base.qcow2", "format", "qcow2", "size", 64 * MiB));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        assertThat(r.headers().getFirst(HttpHeaders.LOCATION)).isEqualTo("/images/info?filename=create/base.qcow2");
        assertThat(r.text("filename")).isEqualTo("create/base.qcow2");
        assertThat(r.text("format")).isEqualTo("qcow2");
        assertThat(r.body().get("virtualSize").asLong()).isEqualTo(64 * MiB);
        assertThat(r.body().get("backingChain")).hasSize(1);
    }

    @Test
    void createdQcow2PassesQemuImgCheckAndInfo() {
        created(Map.of("filename", "check/base.qcow2", "format", "qcow2", "size", 64 * MiB));

        CheckResult check = qemu.check(file("check/base.qcow2"));
        JsonNode info = qemu.info(file("check/base.qcow2"));

        assertThat(check.isClean()).as(check.describe()).isTrue();
        assertThat(info.get("format").asString()).isEqualTo("qcow2");
        assertThat(info.get("virtual-size").asLong()).isEqualTo(64 * MiB);
        assertThat(info.get("cluster-size").asLong()).isEqualTo(65536);
        assertThat(info.get("format-specific").get("data").get("compat").asString())
                .isEqualTo("1.1");
    }

    @Test
    void createdRawImageHasTheRequestedSize() throws IOException {
        Reply r = post(Map.of("filename", "raw/disk.raw", "format", "raw", "size", 8 * MiB));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        assertThat(Files.size(file("raw/disk.raw"))).isEqualTo(8 * MiB);
        assertThat(qemu.info(file("raw/disk.raw")).get("format").asString()).isEqualTo("raw");
    }

    @Test
    void sizeIsRoundedUpToWholeSectorsAsQemuImgDoes() {
        Reply r = post(Map.of("filename", "round/odd.qcow2", "format", "qcow2", "size", 1000));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        assertThat(qemu.info(file("round/odd.qcow2")).get("virtual-size").asLong())
                .isEqualTo(1024);
    }

    @Test
    void qcow2OptionsAreWrittenAsQemuImgWouldWriteThem() {
        Reply r = post(Map.of(
                "filename",
                "opts/small.qcow2",
                "format",
                "qcow2",
                "size",
                4 * MiB,
                "clusterSize",
                4096,
                "compat",
                "0.10"));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        JsonNode info = qemu.info(file("opts/small.qcow2"));
        assertThat(info.get("cluster-size").asLong()).isEqualTo(4096);
        assertThat(info.get("format-specific").get("data").get("compat").asString())
                .isEqualTo("0.10");
        assertThat(qemu.check(file("opts/small.qcow2")).isClean()).isTrue();
    }

    @Test
    void overlayWithoutSizeTakesTheBackingSizeAndRecordsTheBackingVerbatim() {
        created(Map.of("filename", "overlay/base.qcow2", "format", "qcow2", "size", 64 * MiB));

        Reply r = post(Map.of(
                "filename",
                "overlay/top.qcow2",
                "format",
                "qcow2",
                "backingFile",
                "base.qcow2",
                "backingFormat",
                "qcow2"));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        JsonNode info = qemu.info(file("overlay/top.qcow2"));
        assertThat(info.get("backing-filename").asString()).isEqualTo("base.qcow2");
        assertThat(info.get("backing-filename-format").asString()).isEqualTo("qcow2");
        assertThat(info.get("virtual-size").asLong()).isEqualTo(64 * MiB);
    }

    @Test
    void qemuIoCanWriteIntoACreatedOverlay() {
        created(Map.of("filename", "write/base.qcow2", "format", "qcow2", "size", 16 * MiB));
        created(Map.of(
                "filename",
                "write/top.qcow2",
                "format",
                "qcow2",
                "backingFile",
                "base.qcow2",
                "backingFormat",
                "qcow2"));

        qemu.io(file("write/top.qcow2"), "qcow2", "write -P 0xab 1M 64k");

        assertThat(qemu.check(file("write/top.qcow2")).isClean()).isTrue();
        qemu.io(file("write/top.qcow2"), "qcow2", "read -P 0xab 1M 64k", "read -P 0 0 1M");
    }

    @Test
    void backingFormatIsProbedAndRecordedWhenOmitted() throws IOException {
        qemu.create(dir("probe").resolve("base.raw"), "raw", "2M");

        Reply r = post(Map.of("filename", "probe/top.qcow2", "format", "qcow2", "backingFile", "base.raw"));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        JsonNode info = qemu.info(file("probe/top.qcow2"));
        assertThat(info.get("backing-filename-format").asString()).isEqualTo("raw");
        assertThat(info.get("virtual-size").asLong()).isEqualTo(2 * MiB);
    }

    @Test
    void backingFileInAnotherDirectoryIsRelativeToTheNewImage() {
        created(Map.of("filename", "rel/bases/base.qcow2", "format", "qcow2", "size", 4 * MiB));

        Reply r = post(Map.of(
                "filename",
                "rel/vms/top.qcow2",
                "format",
                "qcow2",
                "backingFile",
                "../bases/base.qcow2",
                "backingFormat",
                "qcow2"));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        assertThat(qemu.info(file("rel/vms/top.qcow2")).get("backing-filename").asString())
                .isEqualTo("../bases/base.qcow2");
        assertThat(r.body().get("backingChain").get(1).get("filename").asString())
                .isEqualTo("rel/bases/base.qcow2");
    }

    @Test
    void existingFileIs409AndLeftUntouched() throws IOException {
        created(Map.of("filename", "exists/base.qcow2", "format", "qcow2", "size", 64 * MiB));
        byte[] before = Files.readAllBytes(file("exists/base.qcow2"));

        Reply r = post(Map.of("filename", "exists/base.qcow2", "format", "qcow2", "size", MiB));

        assertProblem(r, 409, "conflict");
        assertThat(r.text("detail")).contains("exists/base.qcow2");
        assertThat(Files.readAllBytes(file("exists/base.qcow2"))).isEqualTo(before);
        assertThat(qemu.info(file("exists/base.qcow2")).get("virtual-size").asLong())
                .isEqualTo(64 * MiB);
    }

    @Test
    void infoShowsTheWholeChainTopFirst() throws IOException {
        Path dir = dir("chain");
        qemu.create(dir.resolve("base.qcow2"), "qcow2", "8M");
        qemu.createOverlay(dir.resolve("mid.qcow2"), dir.resolve("base.qcow2"));
        qemu.createOverlay(dir.resolve("top.qcow2"), dir.resolve("mid.qcow2"));

        Reply r = get("/images/info?filename=chain/top.qcow2");

        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(r.body().get("chainLength").asInt()).isEqualTo(3);
        List<String> names = new ArrayList<>();
        r.body()
                .get("backingChain")
                .values()
                .forEach(l -> names.add(l.get("filename").asString()));
        assertThat(names).containsExactly("chain/top.qcow2", "chain/mid.qcow2", "chain/base.qcow2");
        JsonNode top = r.body().get("backingChain").get(0);
        assertThat(top.get("backingFile").asString()).isEqualTo("mid.qcow2");
        assertThat(top.get("backingFormat").asString()).isEqualTo("qcow2");
        assertThat(top.get("virtualSize").asLong()).isEqualTo(8 * MiB);
        assertThat(top.get("clusterSize").asInt()).isEqualTo(65536);
        assertThat(top.get("compat").asString()).isEqualTo("1.1");
        assertThat(top.get("refcountBits").asInt()).isEqualTo(16);
        assertThat(top.get("dirty").asBoolean()).isFalse();
        assertThat(top.get("corrupt").asBoolean()).isFalse();
        assertThat(r.body().get("backingChain").get(2).get("backingFile").isNull())
                .isTrue();
    }

    @Test
    void infoOfAChainWithAMissingBackingFileIs400() throws IOException {
        Path dir = dir("broken");
        qemu.create(dir.resolve("base.qcow2"), "qcow2", "1M");
        qemu.createOverlay(dir.resolve("top.qcow2"), dir.resolve("base.qcow2"));
        Files.delete(dir.resolve("base.qcow2"));

        Reply r = get("/images/info?filename=broken/top.qcow2");

        assertProblem(r, 400);
        assertThat(r.text("detail")).contains("base.qcow2");
    }

    @Test
    void infoRefusesABackingFileThatPointsOutsideTheRoot() throws IOException {
        Path outsideFile = Files.createTempFile("bp-outside", ".raw");
        try {
            qemu.create(
                    dir("hostile").resolve("top.qcow2"),
                    "qcow2",
                    "1M",
                    "-u",
                    "-b",
                    outsideFile.toString(),
                    "-F",
                    "raw");

            Reply r = get("/images/info?filename=hostile/top.qcow2");

            assertProblem(r, 400, "invalid-argument");
        } finally {
            Files.deleteIfExists(outsideFile);
        }
    }

    @Test
    void listShowsEveryImageWithRelativeNamesSizesAndBacking() {
        created(Map.of("filename", "list/base.qcow2", "format", "qcow2", "size", 4 * MiB));
        created(Map.of(
                "filename",
                "list/top.qcow2",
                "format",
                "qcow2",
                "backingFile",
                "base.qcow2",
                "backingFormat",
                "qcow2"));

        Reply r = get("/images?pageSize=1000");

        assertThat(r.status()).isEqualTo(200);
        JsonNode top = entry(r, "list/top.qcow2");
        assertThat(top.get("format").asString()).isEqualTo("qcow2");
        assertThat(top.get("virtualSize").asLong()).isEqualTo(4 * MiB);
        assertThat(top.get("actualSize").asLong()).isPositive();
        assertThat(top.get("backingFile").asString()).isEqualTo("base.qcow2");
        assertThat(top.has("error")).isFalse();
        assertThat(entry(r, "list/base.qcow2").get("backingFile").isNull()).isTrue();
    }

    @Test
    void listShowsAFileThatIsNoValidImageWithAnError() throws IOException {
        Files.createDirectories(file("bad"));
        // the qcow2 magic and nothing else: probed as qcow2, refused when opened
        Files.write(file("bad/truncated.qcow2"), new byte[] {'Q', 'F', 'I', (byte) 0xfb, 0, 0, 0, 3});

        Reply r = get("/images?pageSize=1000");

        assertThat(r.status()).isEqualTo(200);
        JsonNode bad = entry(r, "bad/truncated.qcow2");
        assertThat(bad.get("error").asString()).isNotBlank();
    }

    @Test
    void listIsPagedWithALinkToTheNextPage() {
        for (int i = 0; i < 3; i++) {
            created(Map.of("filename", "paged/p" + i + ".raw", "format", "raw", "size", 512));
        }
        List<String> seen = new ArrayList<>();
        String next = "/images?pageSize=2";
        int pages = 0;
        while (next != null && pages++ < 100) {
            Reply r = get(next);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body().size()).isLessThanOrEqualTo(2);
            r.body().values().forEach(e -> seen.add(e.get("filename").asString()));
            next = nextLink(r);
        }

        assertThat(seen)
                .contains("paged/p0.raw", "paged/p1.raw", "paged/p2.raw")
                .doesNotHaveDuplicates();
        assertThat(seen).isSorted();
    }

    private static JsonNode entry(Reply list, String filename) {
        for (JsonNode e : list.body().values()) {
            if (filename.equals(e.get("filename").asString())) {
                return e;
            }
        }
        throw new AssertionError(filename + " not listed in " + list);
    }

    private static String nextLink(Reply r) {
        String link = r.headers().getFirst(HttpHeaders.LINK);
        if (link == null) {
            return null;
        }
        Matcher m = Pattern.compile("<([^>]+)>;\\s*rel=\"next\"").matcher(link);
        assertThat(m.find()).as(link).isTrue();
        String url = m.group(1);
        return url.substring(url.indexOf("/images"));
    }
}
