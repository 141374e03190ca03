#!/usr/bin/env bash
# Blockpull load bench: many jobs, many clients, many pollers at once against one service.
#
#   bench/load.sh [--keep] [--help]
#
# Environment (defaults in brackets):
#   JOBS         concurrent stream jobs, each on its own base <- top chain               [20]
#   SIZE_MIB     guest size of every chain (3/4 of it data in the base)                  [128]
#   SPEED_MIB    speed limit of every job in MiB/s; 0 = unlimited                        [2]
#   RATE         planned requests per second: 4/5 GET /jobs/stream/{id}, 1/5 GET /jobs   [500]
#   SSE          /jobs/events subscribers                                                [20]
#   NBD_CLIENTS  nbdcopy readers, each reading the streamed tops one after another        [4]
#   MIN_SECONDS  the load runs until every job has finished and this long at least, at most 10x [60]
#   SERVICE_JVM_OPTIONS  JVM options after the shipped ones (pom.xml's jvmArguments)       []
#   BUILD        auto (build when no jar or sources are newer) | always | never           [auto]
#   BENCH_DIR    where the temp dir goes (needs about 2 x JOBS x SIZE_MIB free)          [${TMPDIR:-/tmp}]
#   --keep       keep the temp dir (chains, service log)
#
# One service is started from the jar (127.0.0.1, free ports, the JVM options the image ships).
# The chains are opened and their tops exported read-only over NBD; then, at once: the jobs start,
# the SSE subscribers listen, the NBD readers copy the tops to null: in a loop, and LoadBench
# (bench/src) sends the GETs in an open loop at RATE. Printed: GET latency percentiles (measured
# from each request's planned send time) and the seconds with the slowest ones, errors, every
# job's throughput, SSE completions seen, NBD bytes read, the service's RSS and thread count
# before, during and after, the machine's idle and stolen CPU. After the service has stopped,
# every top is verified: qemu-img check clean, no backing file left, qemu-img compare equal to the
# chain it came from.
# Exit 0 when all of that holds, 2 when something failed (the figures are printed anyway).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
JOBS=${JOBS:-20}
SIZE_MIB=${SIZE_MIB:-128}
SPEED_MIB=${SPEED_MIB:-2}
RATE=${RATE:-500}
SSE=${SSE:-20}
NBD_CLIENTS=${NBD_CLIENTS:-4}
MIN_SECONDS=${MIN_SECONDS:-60}
BUILD=${BUILD:-auto}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
KEEP=0

usage() { sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; usage >&2; exit 64 ;;
  esac
done

die() { echo "load.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

for tool in qemu-img qemu-io nbdcopy java javac jar curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: qemu-utils, libnbd-bin, a JDK 17, curl, python3)"
done
for v in JOBS SIZE_MIB RATE NBD_CLIENTS MIN_SECONDS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer: ${!v}"
done
[[ "$SPEED_MIB" =~ ^[0-9]+$ && "$SSE" =~ ^[0-9]+$ ]] || die "SPEED_MIB and SSE must be integers"
(( SIZE_MIB >= 16 )) || die "SIZE_MIB must be at least 16"

WORK=$(mktemp -d "$BENCH_DIR/blockpull-load-bench.XXXXXX")
BP_PID=""
READERS=()
cleanup() {
  touch "$WORK/stop-readers"
  for pid in "${READERS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [[ -n "$BP_PID" ]] && kill "$BP_PID" 2>/dev/null && wait "$BP_PID" 2>/dev/null || true
  if (( KEEP )); then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

build_jar
compile_bench_class LoadBench

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ----------------------------------------------------------------------------- chains
# One template chain, copied per job: base with data in its first 3/4, top with 64 KiB every 8 MiB.
SIZE=$(( SIZE_MIB * 1048576 ))
mkdir -p "$WORK/template" "$WORK/data"
qemu-img create -q -f qcow2 "$WORK/template/base.qcow2" "$SIZE"
qemu-io -f qcow2 -c "write -P 0x5a 0 $(( SIZE / 4 * 3 ))" "$WORK/template/base.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$WORK/template/top.qcow2"
top_writes=()
for (( off = 0; off < SIZE; off += 8 * 1048576 )); do top_writes+=(-c "write -P 0x33 $off 65536"); done
qemu-io -f qcow2 "${top_writes[@]}" "$WORK/template/top.qcow2" >/dev/null
for (( i = 0; i < JOBS; i++ )); do
  mkdir -p "$WORK/data/c$i"
  cp --sparse=always "$WORK/template/base.qcow2" "$WORK/template/top.qcow2" "$WORK/data/c$i/"
done
log "$JOBS chains of $SIZE_MIB MiB in $WORK/data"

# ----------------------------------------------------------------------------- service
HTTP_PORT=$(free_port)
NBD_PORT=$(free_port)
BASE="http://127.0.0.1:$HTTP_PORT"
# the JVM options the container image, the chart and spring-boot:run ship (README "Memory")
read -r -a JVM_OPTIONS <<<"$(sed -n 's:.*<jvmArguments>\(.*\)</jvmArguments>.*:\1:p' "$ROOT/pom.xml")"
(( ${#JVM_OPTIONS[@]} )) || die "no <jvmArguments> in $ROOT/pom.xml"
# shellcheck disable=SC2086 # SERVICE_JVM_OPTIONS is a list of options
java "${JVM_OPTIONS[@]}" ${SERVICE_JVM_OPTIONS:-} -jar "$JAR" --server.port="$HTTP_PORT" --blockpull.data-root="$WORK/data" \
  --blockpull.nbd.port="$NBD_PORT" --blockpull.nbd.bind-address=127.0.0.1 >"$WORK/blockpull.log" 2>&1 &
BP_PID=$!
for _ in $(seq 240); do
  curl -fsS "$BASE/actuator/health/readiness" >/dev/null 2>&1 && break
  kill -0 "$BP_PID" 2>/dev/null || die "the service exited at start (see $WORK/blockpull.log; use --keep)"
  sleep 0.5
done
curl -fsS "$BASE/actuator/health/readiness" >/dev/null || die "the service did not become ready"
api() { curl -fsS -X POST "$BASE$1" -H 'Content-Type: application/json' -d "$2" >/dev/null || die "POST $1 $2 failed"; }
for (( i = 0; i < JOBS; i++ )); do
  api /nodes "{\"nodeName\": \"c$i\", \"driver\": \"qcow2\", \"file\": \"c$i/top.qcow2\"}"
  api /exports "{\"id\": \"c$i\", \"nodeName\": \"c$i\", \"writable\": false}"
done
log "service pid $BP_PID on $BASE, NBD on $NBD_PORT; $JOBS nodes opened and exported"

# ----------------------------------------------------------------------------- load
# Reader r starts at export r * JOBS / NBD_CLIENTS, so the readers spread over the tops.
reader() {
  local r=$1 i k
  while [[ ! -e "$WORK/stop-readers" ]]; do
    for (( k = 0; k < JOBS; k++ )); do
      i=$(( (k + r * JOBS / NBD_CLIENTS) % JOBS ))
      [[ -e "$WORK/stop-readers" ]] && break
      if nbdcopy "nbd://127.0.0.1:$NBD_PORT/c$i" null: 2>>"$WORK/nbd-errors.log"; then
        echo "c$i" >>"$WORK/nbd-copies.$r"
      else
        echo "c$i" >>"$WORK/nbd-failures"
      fi
    done
  done
}
for (( r = 0; r < NBD_CLIENTS; r++ )); do
  reader "$r" &
  READERS+=($!)
done
speed=$(( SPEED_MIB * 1048576 ))
t0=$(date +%s)
set +e
java -cp "$CP" dev.blockpull.bench.LoadBench "$BASE" "$BP_PID" "$JOBS" "$RATE" "$SSE" "$MIN_SECONDS" "$speed" \
  | tee "$WORK/load.txt"
load_status=${PIPESTATUS[0]}
set -e
touch "$WORK/stop-readers"
for pid in "${READERS[@]}"; do wait "$pid" 2>/dev/null || true; done
READERS=()
secs=$(( $(date +%s) - t0 ))
# Every line is one whole top read; summing bytes in awk's printf "%d" stopped at 2 GiB (2^31 - 1).
nbd_copies=$(cat "$WORK"/nbd-copies.* 2>/dev/null | wc -l)
nbd_failures=0
[[ -f "$WORK/nbd-failures" ]] && nbd_failures=$(wc -l <"$WORK/nbd-failures")
printf 'NBD: %d readers, %d tops read whole, %d MiB in %d s (%.0f MiB/s), failed reads %d\n' "$NBD_CLIENTS" \
  "$nbd_copies" $(( nbd_copies * SIZE_MIB )) "$secs" "$(awk -v m=$(( nbd_copies * SIZE_MIB )) -v s="$secs" 'BEGIN { print m / s }')" \
  "$nbd_failures"

# ----------------------------------------------------------------------------- verification
kill "$BP_PID"
wait "$BP_PID" 2>/dev/null || true
BP_PID=""
bad=0
for (( i = 0; i < JOBS; i++ )); do
  top="$WORK/data/c$i/top.qcow2"
  why=""
  qemu-img check -q "$top" >/dev/null 2>&1 || why+=" check"
  qemu-img info --output=json "$top" | grep -q '"backing-filename"' && why+=" backing-left"
  qemu-img compare -q "$WORK/template/top.qcow2" "$top" >/dev/null 2>&1 || why+=" content"
  if [[ -n "$why" ]]; then bad=$(( bad + 1 )); echo "c$i FAILED:$why"; fi
done
echo "verified: $(( JOBS - bad )) of $JOBS tops check clean, have no backing file and equal their chain"
(( bad == 0 && load_status == 0 && nbd_failures == 0 )) || exit 2
