# syntax=docker/dockerfile:1
#
# Blockpull container image: build from the project root with the command in README ("Docker"),
# which fills the OCI labels below through --build-arg.
# Two stages: the JDK builds the jar and splits it into Spring Boot's layers; the runtime image is
# a JRE with those layers copied in the order they change (dependencies rarely, the application
# on every commit), so a rebuild after a code change only replaces the last layer.
# CI cannot run Docker: .ci/boot-extracted-layers extracts and boots the jar exactly as below, and
# DockerfileTests checks the rules of conventions.md §9.

FROM eclipse-temurin:17-jdk AS build
WORKDIR /build
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
COPY src/ src/
# The cache mount keeps ~/.m2 (Maven itself and the dependencies) between builds.
RUN --mount=type=cache,target=/root/.m2 \
    chmod +x mvnw \
    && ./mvnw -B -q -DskipTests package \
    && cp target/blockpull-*.jar app.jar \
    && java -Djarmode=tools -jar app.jar extract --layers --launcher --destination extracted

FROM eclipse-temurin:17-jre
# A numeric user and group: Kubernetes can only verify runAsNonRoot against a numeric UID.
# /data is where the data root lives; mount a volume there (no VOLUME instruction, so that an
# unmounted run does not silently write into an anonymous volume).
RUN groupadd --gid 10001 blockpull \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin blockpull \
    && mkdir -p /data \
    && chown 10001:10001 /data
WORKDIR /app
COPY --from=build /build/extracted/dependencies/ ./
COPY --from=build /build/extracted/spring-boot-loader/ ./
COPY --from=build /build/extracted/snapshot-dependencies/ ./
COPY --from=build /build/extracted/application/ ./
# The command-line client (README, "Follow a job"): `blockpull` on the PATH runs its own small jar.
COPY --from=build /build/target/cli/blockpull-cli.jar ./cli/
COPY src/main/docker/blockpull /usr/local/bin/blockpull
USER 10001:10001
# 8080: HTTP API, probes, metrics. 10809: NBD (set BLOCKPULL_NBD_PORT=0 to turn it off).
EXPOSE 8080 10809
# A flat memory line (README, "Memory"): the copy path allocates next to nothing, so a small
# serial-collected heap that gives memory back, a bound on direct memory (the I/O buffer pool
# keeps at most blockpull.io.buffer-pool-size of it) and small code and class caches keep an
# idle service under 200 MiB RSS. On OutOfMemoryError the JVM exits, and the orchestrator
# restarts it, instead of limping on with half-dead threads.
ENV JAVA_TOOL_OPTIONS="--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED -XX:+UseSerialGC -Xms8m -Xmx256m -XX:MaxHeapFreeRatio=70 -XX:MinHeapFreeRatio=40 -XX:MaxDirectMemorySize=192m -XX:ReservedCodeCacheSize=40m -XX:MaxMetaspaceSize=160m -Xss512k -XX:ThreadPriorityPolicy=1 -XX:JavaPriority1_To_OSPriority=10 -XX:+ExitOnOutOfMemoryError"
# Docker's own health state (docker ps, compose's depends_on: service_healthy; Kubernetes ignores
# it and uses the chart's probes): the image's CLI asks the liveness group, which turns DOWN only
# when the job scheduler is stuck, so a merely busy service is never called unhealthy. The CLI
# rather than curl, which the base image carries only "for historical reasons"; it costs a short
# JVM start (about a second of CPU) per check, hence once a minute. No --start-period
# (dockerfilelint cannot parse it): the first check comes a minute after the start.
HEALTHCHECK --interval=60s --timeout=10s --retries=3 \
    CMD blockpull --url "http://127.0.0.1:${SERVER_PORT:-8080}" health liveness || exit 1
# OCI labels, filled by the build (README, "Docker"). Last, because build arguments that change on
# every build (revision, created) would otherwise miss the cache of every layer after them.
ARG VERSION=0.1.0-SNAPSHOT
ARG REVISION=""
ARG CREATED=""
ARG LICENSES="NOASSERTION"
LABEL org.opencontainers.image.title="blockpull" \
      org.opencontainers.image.description="QEMU's block-stream as a REST service, with a pure-Java qcow2 engine" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.source="https://blockpull.dev"
# Settings come from the environment (BLOCKPULL_*, SERVER_PORT, ...) or further arguments
# (`docker run blockpull --blockpull.jobs.history-size=10`); the data root is always /data.
ENTRYPOINT ["java", "org.springframework.boot.loader.launch.JarLauncher", "--blockpull.data-root=/data"]
