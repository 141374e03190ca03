package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.MAX_STRING;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/** The strings of NBD option data: strict UTF-8, at most {@link NbdProtocol#MAX_STRING} bytes. */
final class NbdStrings {

    private NbdStrings() {}

    /**
     * The next {@code length} bytes of {@code data} (consumed in any case) as a string; null when
     * they are not UTF-8 or longer than NBD allows.
     */
    static @Nullable String read(ByteBuffer data, int length) {
        ByteBuffer slice = data.slice();
        slice.limit(length);
        data.position(data.position() + length);
        if (length > MAX_STRING) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice)
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
