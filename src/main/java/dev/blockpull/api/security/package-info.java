/**
 * Optional bearer-token authentication of the API ({@code blockpull.security.token}): one servlet
 * filter, no Spring Security, because there is exactly one credential and no user model.
 */
@NullMarked
package dev.blockpull.api.security;

import org.jspecify.annotations.NullMarked;
