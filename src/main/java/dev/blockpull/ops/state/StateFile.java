package dev.blockpull.ops.state;

import dev.blockpull.io.BlockFile;
import dev.blockpull.io.FileChannelBlockFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The state store on disk: {@code state.json} in the state directory, replaced whole on every
 * save by the crash-safe sequence (write {@code state.json.tmp}, fsync it, rename it over
 * {@code state.json}, fsync the directory), so a kill at any instant leaves the old or the new
 * file, never a torn one. A temporary file found at start-up is such an interrupted save and is
 * deleted. A file that does not parse, or has an unknown version, is moved aside and reported:
 * never silently replaced by an empty state.
 */
public final class StateFile {

    static final String NAME = "state.json";
    static final String TEMP = NAME + ".tmp";
    private static final Logger log = LoggerFactory.getLogger(StateFile.class);
    private static final DateTimeFormatter ASIDE =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** Opens the temporary file for writing; tests put the io fault wrapper around it. */
    @FunctionalInterface
    interface TempFiles {
        BlockFile create(Path path) throws IOException;
    }

    /** A member an older file lacks reads as its type's default (0, false, null): see {@link ServiceState}. */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    private final Path dir;
    private final Clock clock;
    private final TempFiles tempFiles;

    public StateFile(Path dir) {
        this(dir, Clock.systemUTC(), StateFile::createTemp);
    }

    StateFile(Path dir, Clock clock, TempFiles tempFiles) {
        this.dir = dir;
        this.clock = clock;
        this.tempFiles = tempFiles;
    }

    public Path path() {
        return dir.resolve(NAME);
    }

    /**
     * The recorded state, empty when nothing was ever recorded.
     *
     * @throws UnreadableStateException when the file is corrupt or of an unknown version (it has
     *                                  been moved aside, its new name is in the message)
     */
    public Optional<ServiceState> read() {
        Path file = path();
        try {
            Files.createDirectories(dir);
            if (Files.deleteIfExists(dir.resolve(TEMP))) {
                log.info("Deleted {}: a save interrupted by a crash; {} holds the state before it", TEMP, file);
            }
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            byte[] bytes = Files.readAllBytes(file);
            return Optional.of(parse(bytes));
        } catch (IOException e) {
            throw new UncheckedStateIoException("Cannot read the state file " + file + ": " + e.getMessage(), e);
        } catch (JacksonException | IllegalArgumentException e) {
            Path aside = dir.resolve(NAME + ".unreadable-" + ASIDE.format(clock.instant()));
            String moved;
            try {
                Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
                moved = "it was moved to " + aside + "; ";
            } catch (IOException m) {
                moved = "moving it aside failed too (" + m.getMessage() + "); ";
            }
            throw new UnreadableStateException(
                    "The state file " + file + " cannot be read: " + e.getMessage()
                            + "; " + moved
                            + "Blockpull did not start, so that nothing it recorded is forgotten. Put back a "
                            + "good copy, or start again to begin with an empty state (nodes, exports and jobs are not "
                            + "restored)",
                    e);
        }
    }

    /** Replaces the recorded state by {@code state}, crash-safely. */
    public void write(ServiceState state) {
        Path temp = dir.resolve(TEMP);
        try {
            byte[] bytes = JSON.writeValueAsBytes(state);
            Files.createDirectories(dir);
            try (BlockFile out = tempFiles.create(temp)) {
                out.write(ByteBuffer.wrap(bytes), 0);
                out.force(true);
            }
            Files.move(temp, path(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            // The rename is durable only once the directory is.
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedStateIoException("Cannot write the state file " + path() + ": " + e.getMessage(), e);
        }
    }

    static ServiceState parse(byte[] bytes) {
        JsonNode tree = JSON.readTree(bytes);
        if (tree == null || !tree.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode version = tree.get("version");
        if (version == null || !version.isInt()) {
            throw new IllegalArgumentException("no version number");
        }
        if (version.intValue() != ServiceState.VERSION) {
            throw new IllegalArgumentException("version " + version.intValue() + " is unknown to this build, which "
                    + "reads version " + ServiceState.VERSION + " (was it written by a newer Blockpull?)");
        }
        return JSON.treeToValue(tree, ServiceState.class);
    }

    private static BlockFile createTemp(Path path) throws IOException {
        Files.deleteIfExists(path);
        Files.createFile(path);
        return FileChannelBlockFile.open(path, false, false);
    }

    /** An I/O error of the state directory. */
    public static final class UncheckedStateIoException extends RuntimeException {
        UncheckedStateIoException(String message, IOException cause) {
            super(message, cause);
        }
    }
}
