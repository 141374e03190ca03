package dev.blockpull.api;

import static org.assertj.core.api.Assertions.assertThat;

/** What every error answer of the API must look like (contract: RFC 9457 with errorClass). */
public final class ProblemAssert {

    private ProblemAssert() {}

    /** A problem+json body with this status, a detail, an absolute type, errorClass and no stack trace. */
    public static void assertProblem(Reply reply, int status) {
        assertThat(reply.status()).as("status of %s", reply).isEqualTo(status);
        assertThat(reply.contentType()).as("content type of %s", reply).startsWith("application/problem+json");
        assertThat(reply.body().get("status").asInt()).isEqualTo(status);
        assertThat(reply.text("detail")).as("detail of %s", reply).isNotBlank();
        assertThat(reply.text("title")).as("title of %s", reply).isNotBlank();
        assertThat(reply.text("type")).as("type of %s", reply).startsWith("https://blockpull.dev/problems/");
        assertThat(reply.text("errorClass")).as("errorClass of %s", reply).isNotBlank();
        assertThat(reply.raw()).doesNotContain("\tat ", "Exception:", "\"trace\"");
    }

    /** {@link #assertProblem} plus the type's last segment, e.g. {@code invalid-argument}. */
    public static void assertProblem(Reply reply, int status, String typeSlug) {
        assertProblem(reply, status);
        assertThat(reply.text("type")).isEqualTo("https://blockpull.dev/problems/" + typeSlug);
    }
}
