package dev.blockpull.api.node;

import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.annotation.JsonDeserialize;

/**
 * The {@code file} member of a node definition: a file name, or
 * {@code {"driver":"file","filename":"...","readOnly":true}} where {@code readOnly} means the
 * storage itself is read-only.
 */
@JsonDeserialize(using = FileRequest.Deserializer.class)
record FileRequest(String driver, String filename, boolean readOnly) {

    /** The object form, read with the usual unknown-field checks. */
    record FileObject(
            @Nullable String driver,
            @Nullable String filename,
            @Nullable Boolean readOnly) {}

    static final class Deserializer extends ValueDeserializer<FileRequest> {

        @Override
        public FileRequest deserialize(JsonParser p, DeserializationContext ctxt) {
            if (p.currentToken() == JsonToken.VALUE_STRING) {
                return new FileRequest("file", p.getString(), false);
            }
            if (p.currentToken() == JsonToken.START_OBJECT) {
                FileObject o = ctxt.readValue(p, FileObject.class);
                if (o.filename() == null || o.filename().isBlank()) {
                    return ctxt.reportInputMismatch(FileRequest.class, "file.filename is required");
                }
                return new FileRequest(
                        o.driver() == null ? "file" : o.driver(), o.filename(), Boolean.TRUE.equals(o.readOnly()));
            }
            return ctxt.reportInputMismatch(
                    FileRequest.class, "file must be a file name or an object {\"driver\":\"file\",\"filename\":...}");
        }
    }
}
