package dev.blockpull.api.job;

import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** The problem responses every verb on a job shares: the job is unknown, or If-Match is stale. */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ApiResponse(responseCode = "404", description = "No such job")
@ApiResponse(responseCode = "412", description = "If-Match does not match the job's ETag")
@interface JobVerbResponses {}
