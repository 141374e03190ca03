/**
 * The {@code blockpull} command-line client: a small jar of its own (target/cli/blockpull-cli.jar)
 * that talks to a running service over HTTP with java.net.http, parses arguments with picocli and
 * JSON with Jackson. It depends on nothing else of the project and has no Spring in it, so it
 * starts in a fraction of a second (LayeringTests keeps it so).
 */
@NullMarked
package dev.blockpull.cli;

import org.jspecify.annotations.NullMarked;
