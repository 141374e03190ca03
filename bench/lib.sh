# Shared by the bench scripts (sourced, not run). The caller sets ROOT, BUILD and WORK and defines
# die() and log() before calling these.

# The executable jar in target/, built first when BUILD=always, when there is none, or (BUILD=auto)
# when src/main or pom.xml is newer than it. Sets JAR.
build_jar() {
  find_jar() { ls "$ROOT"/target/*.jar 2>/dev/null | grep -v '\.original$' | sed -n 1p || true; }
  JAR=$(find_jar)
  if [[ "$BUILD" == always || -z "$JAR" || ( "$BUILD" == auto && -n "$(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$JAR" -print -quit)" ) ]]; then
    [[ "$BUILD" == never ]] && die "no jar in $ROOT/target and BUILD=never"
    log "building the jar: ./mvnw -q -B -DskipTests package"
    (cd "$ROOT" && ./mvnw -q -B -DskipTests package) || die "build failed"
    JAR=$(find_jar)
  fi
  [[ -n "$JAR" ]] || die "no jar in $ROOT/target after the build"
  log "jar: $JAR"
}

# A bench class is not in the product jar: compile bench/src/dev/blockpull/bench/$1.java against
# the jar's own classes and libraries. Sets CP to run it.
compile_bench_class() {
  mkdir -p "$WORK/app" "$WORK/bench-classes"
  (cd "$WORK/app" && jar xf "$JAR")
  CP="$WORK/app/BOOT-INF/classes:$WORK/app/BOOT-INF/lib/*"
  javac --release 17 -proc:none -nowarn -cp "$CP" -sourcepath "$ROOT/bench/src" -d "$WORK/bench-classes" \
    "$ROOT/bench/src/dev/blockpull/bench/$1.java" || die "$1 does not compile against $JAR"
  CP="$WORK/bench-classes:$CP"
}
