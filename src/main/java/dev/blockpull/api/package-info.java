/**
 * HTTP floor: controllers, request/response records and RFC 9457 problem details. Controllers
 * throw; {@link dev.blockpull.api.ApiExceptionHandler} alone turns exceptions into responses.
 */
@NullMarked
package dev.blockpull.api;

import org.jspecify.annotations.NullMarked;
