/**
 * What survives a restart: the state store (a versioned JSON file written crash-safely in
 * {@code blockpull.state-dir}), the recorder that keeps it up to date with what users asked for
 * (nodes, snapshots, exports, stream jobs, finished jobs), and the restore at start-up that opens
 * the graph again and resumes the jobs.
 * <p>
 * On the ops floor because it wires every floor below together (graph, nbd exports, stream
 * launcher, job scheduler) and runs in the service's lifecycle, which is what ops does; the api
 * floor only tells it what changed.
 */
@NullMarked
package dev.blockpull.ops.state;

import org.jspecify.annotations.NullMarked;
