package dev.blockpull.api.node;

import dev.blockpull.graph.FaultInjectionFilter;
import dev.blockpull.graph.InjectedError;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/** A rule in force on a blkdebug filter. */
@Schema(name = "InjectedError")
record InjectedErrorView(
        @Schema(description = "Id of the rule on its node, for DELETE /nodes/{nodeName}/inject-errors/{id}")
        long id,

        @Schema(description = "read, write or flush") String event,
        @Schema(description = "EIO, ENOSPC, EPERM or EROFS") String errno,
        long offset,

        @Schema(description = "Bytes covered; null: to the end") @Nullable
        Long length,

        boolean once,
        @Schema(description = "Requests it failed so far") long hits) {

    static InjectedErrorView of(FaultInjectionFilter.ActiveRule rule) {
        InjectedError e = rule.error();
        return new InjectedErrorView(
                rule.id(),
                InjectErrorRequest.spelling(e.event()),
                e.errno().name(),
                e.offset(),
                e.length() == InjectedError.TO_THE_END ? null : e.length(),
                e.once(),
                rule.hits());
    }
}
