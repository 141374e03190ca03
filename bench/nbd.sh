#!/usr/bin/env bash
# Blockpull NBD bench: the same NBD workloads against Blockpull's export and against qemu-nbd
# serving an identical image, same machine, same run, with the ratio.
#
#   bench/nbd.sh [--keep] [--help]
#
# Environment (defaults in brackets):
#   SIZE_MIB   guest size of the exported qcow2 image, in MiB                     [256]
#   DEPTHS     requests in flight (qemu-img bench -d), one table per value        ["1 16"]
#   COUNT_4K   requests per 4 KiB run                                             [5000]
#   COUNT_64K  requests per 64 KiB run                                            [1500]
#   RUNS       measured runs per side and row; the median is reported             [3]
#   BUILD      auto (build when no jar or sources are newer) | always | never     [auto]
#   BENCH_DIR  where the temp dir goes                                            [${TMPDIR:-/tmp}]
#
# Every row is `qemu-img bench -f raw nbd://127.0.0.1:PORT/bench`, QEMU's own NBD client, over
# loopback. "random" rows use a scrambled stride (-S = block x a large odd number, wrapping at the
# image end): every block once, in an order no read-ahead follows. Both servers run with their
# defaults (qemu-nbd: writeback cache, threads AIO). Warm page cache; see bench/README.md.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
SIZE_MIB=${SIZE_MIB:-256}
DEPTHS=${DEPTHS:-1 16}
COUNT_4K=${COUNT_4K:-5000}
COUNT_64K=${COUNT_64K:-1500}
RUNS=${RUNS:-3}
BUILD=${BUILD:-auto}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
KEEP=0

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; usage >&2; exit 64 ;;
  esac
done

die() { echo "nbd.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

for tool in qemu-img qemu-io qemu-nbd java curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found (qemu-*: apt-get install qemu-utils; java: a JDK 17)"
done
(( SIZE_MIB >= 16 )) || die "SIZE_MIB must be at least 16"
(( RUNS >= 1 )) || die "RUNS must be at least 1"
SIZE_BYTES=$(( SIZE_MIB * 1048576 ))

WORK=$(mktemp -d "$BENCH_DIR/blockpull-nbd-bench.XXXXXX")
BP_PID=""
QN_PID=""
cleanup() {
  [[ -n "$BP_PID" ]] && kill "$BP_PID" 2>/dev/null && wait "$BP_PID" 2>/dev/null || true
  [[ -n "$QN_PID" ]] && kill "$QN_PID" 2>/dev/null && wait "$QN_PID" 2>/dev/null || true
  if (( KEEP )); then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ----------------------------------------------------------------------------- build
build_jar

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ----------------------------------------------------------------------------- images
# Two identical images, one per server (both are written to): data in the first half, zero
# clusters and holes in the second, so reads meet allocated and unallocated clusters alike.
mkdir -p "$WORK/data"
cd "$WORK"
qemu-img create -q -f qcow2 data/bp.qcow2 "$SIZE_BYTES"
half=$(( SIZE_BYTES / 2 ))
qemu-io -f qcow2 -c "write -P 0x5a 0 $half" -c "write -z $half $(( SIZE_BYTES / 8 ))" data/bp.qcow2 >/dev/null
cp data/bp.qcow2 qn.qcow2
qemu-img check -q data/bp.qcow2 || die "the bench image does not check clean"

# ----------------------------------------------------------------------------- servers
HTTP_PORT=$(free_port)
BP_NBD=$(free_port)
QN_NBD=$(free_port)
log "starting Blockpull (http $HTTP_PORT, nbd $BP_NBD)"
java -jar "$JAR" --server.port="$HTTP_PORT" --blockpull.data-root="$WORK/data" \
  --blockpull.nbd.port="$BP_NBD" --blockpull.nbd.bind-address=127.0.0.1 >blockpull.log 2>&1 &
BP_PID=$!
for _ in $(seq 180); do
  curl -fsS "http://127.0.0.1:$HTTP_PORT/actuator/health" >/dev/null 2>&1 && break
  kill -0 "$BP_PID" 2>/dev/null || die "Blockpull exited at start (see $WORK/blockpull.log; use --keep)"
  sleep 0.5
done
api() { curl -fsS -X POST "http://127.0.0.1:$HTTP_PORT$1" -H 'Content-Type: application/json' -d "$2" >/dev/null; }
api /nodes '{"nodeName": "bench", "driver": "qcow2", "file": "bp.qcow2"}' || die "POST /nodes failed"
api /exports '{"id": "bench", "nodeName": "bench", "writable": true}' || die "POST /exports failed"

log "starting qemu-nbd (nbd $QN_NBD)"
qemu-nbd -f qcow2 -t -b 127.0.0.1 -p "$QN_NBD" -x bench qn.qcow2 >qemu-nbd.log 2>&1 &
QN_PID=$!
for _ in $(seq 60); do
  qemu-img info -f raw "nbd://127.0.0.1:$QN_NBD/bench" >/dev/null 2>&1 && break
  sleep 0.25
done

# ----------------------------------------------------------------------------- rows
# MiB/s of one qemu-img bench run ("Run completed in N seconds.").
bench_once() {
  local uri=$1 bs=$2 count=$3 step=$4 write=$5
  local args=(bench -f raw -c "$count" -d "$DEPTH" -s "$bs" -S "$step")
  (( write )) && args+=(-w --pattern=0x6b)
  local out secs
  out=$(qemu-img "${args[@]}" "$uri" 2>&1) || die "qemu-img ${args[*]} $uri failed: $out"
  secs=$(sed -n 's/.*Run completed in \([0-9.]*\) seconds.*/\1/p' <<<"$out")
  [[ -n "$secs" ]] || die "no timing in: $out"
  awk -v b="$(( bs * count ))" -v s="$secs" 'BEGIN { printf "%.1f", b / 1048576 / s }'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -a ROWS=()
run_row() {
  local name=$1 bs=$2 count=$3 step=$4 write=$5
  local bp="" qn="" i
  for (( i = 0; i < RUNS; i++ )); do
    # alternate the order so neither side always runs on a warmer machine
    if (( i % 2 )); then
      qn+=" $(bench_once "nbd://127.0.0.1:$QN_NBD/bench" "$bs" "$count" "$step" "$write")"
      bp+=" $(bench_once "nbd://127.0.0.1:$BP_NBD/bench" "$bs" "$count" "$step" "$write")"
    else
      bp+=" $(bench_once "nbd://127.0.0.1:$BP_NBD/bench" "$bs" "$count" "$step" "$write")"
      qn+=" $(bench_once "nbd://127.0.0.1:$QN_NBD/bench" "$bs" "$count" "$step" "$write")"
    fi
  done
  local q b
  q=$(median <<<"$qn")
  b=$(median <<<"$bp")
  ROWS+=("$(printf '%-28s %14s %14s %8s' "$name" "$q" "$b" "$(awk -v b="$b" -v q="$q" 'BEGIN { printf "%.2fx", b / q }')")")
  log "$name (depth $DEPTH): qemu-nbd $q MiB/s, Blockpull $b MiB/s"
}

# A scrambled stride: an odd multiple of the block size, coprime with the block count (a power of two).
rand_step() { echo $(( $1 * 7919 )); }

log "warming up"
DEPTH=1
bench_once "nbd://127.0.0.1:$BP_NBD/bench" 65536 200 65536 0 >/dev/null
bench_once "nbd://127.0.0.1:$QN_NBD/bench" 65536 200 65536 0 >/dev/null

for DEPTH in $DEPTHS; do
  ROWS+=("-- queue depth $DEPTH")
  run_row "sequential read 4 KiB"   4096  "$COUNT_4K"  4096  0
  run_row "random read 4 KiB"       4096  "$COUNT_4K"  "$(rand_step 4096)"  0
  run_row "sequential read 64 KiB"  65536 "$COUNT_64K" 65536 0
  run_row "random read 64 KiB"      65536 "$COUNT_64K" "$(rand_step 65536)" 0
  run_row "sequential write 4 KiB"  4096  "$COUNT_4K"  4096  1
  run_row "random write 4 KiB"      4096  "$COUNT_4K"  "$(rand_step 4096)"  1
  run_row "sequential write 64 KiB" 65536 "$COUNT_64K" 65536 1
  run_row "random write 64 KiB"     65536 "$COUNT_64K" "$(rand_step 65536)" 1
done

# ----------------------------------------------------------------------------- verdict
kill "$BP_PID"; wait "$BP_PID" 2>/dev/null || true; BP_PID=""
kill "$QN_PID"; wait "$QN_PID" 2>/dev/null || true; QN_PID=""
status=0
qemu-img check -q data/bp.qcow2 || { log "Blockpull's image does not check clean after the bench"; status=2; }
qemu-img compare -q data/bp.qcow2 qn.qcow2 || { log "the two images differ after identical workloads"; status=2; }

echo
echo "NBD over loopback: qemu-img bench, $SIZE_MIB MiB qcow2, median of $RUNS runs, MiB/s"
printf '%-28s %14s %14s %8s\n' "workload" "qemu-nbd" "Blockpull" "ratio"
printf '%s\n' "${ROWS[@]}"
echo "(ratio = Blockpull / qemu-nbd; above 1.00x Blockpull is faster)"
exit "$status"
