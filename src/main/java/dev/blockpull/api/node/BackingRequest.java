package dev.blockpull.api.node;

import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.annotation.JsonDeserialize;

/**
 * The {@code backing} member of a node definition. Omitted (a Java null): the chain named in the
 * image headers; JSON {@code null}: no backing node; a string: an opened node; an object: a node
 * defined inline.
 */
@JsonDeserialize(using = BackingRequest.Deserializer.class)
sealed interface BackingRequest {

    /** {@code backing: null}. */
    record None() implements BackingRequest {}

    /** {@code backing: "mid"}. */
    record Reference(String nodeName) implements BackingRequest {}

    /** {@code backing: {...}}. */
    record Nested(OpenNodeRequest definition) implements BackingRequest {}

    final class Deserializer extends ValueDeserializer<BackingRequest> {

        @Override
        public BackingRequest deserialize(JsonParser p, DeserializationContext ctxt) {
            if (p.currentToken() == JsonToken.VALUE_STRING) {
                return new Reference(p.getString());
            }
            if (p.currentToken() == JsonToken.START_OBJECT) {
                return new Nested(ctxt.readValue(p, OpenNodeRequest.class));
            }
            return ctxt.reportInputMismatch(
                    BackingRequest.class, "backing must be null, a node name or a node definition object");
        }

        /** An explicit JSON null means "no backing node", unlike an omitted member. */
        @Override
        public Object getNullValue(DeserializationContext ctxt) {
            return new BackingRequest.None();
        }

        @Override
        public @Nullable Object getAbsentValue(DeserializationContext ctxt) {
            return null;
        }
    }
}
