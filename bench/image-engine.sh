#!/usr/bin/env bash
# Blockpull image-engine bench: QEMU and our pure-Java engine side by side, same machine, same run.
#
#   bench/image-engine.sh [--qemu-only] [--keep] [--help]
#
# Environment (defaults in brackets):
#   SIZE_MIB   guest size of the chain and of the write images, in MiB       [1024]
#   CLUSTER    qcow2 cluster size of every image                             [65536]
#   BLOCK      block size of the write benchmarks (cluster-aligned)          [65536]
#   RUNS       measured runs per side; the median is reported                [3]
#   SEED       seed of the random write order                                [42]
#   BUILD      auto (build when no jar or sources are newer) | always | never [auto]
#   BENCH_DIR  where the temp dir goes                                       [${TMPDIR:-/tmp}]
#
# Measurements are warm: the page cache holds the input images (they were just written and
# are read once more before the runs); caches are NOT dropped (/proc/sys/vm/drop_caches is not
# writable here, and a bench that needs root to be fair would not be run by anyone).
# See bench/README.md for what each row compares.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
SIZE_MIB=${SIZE_MIB:-1024}
CLUSTER=${CLUSTER:-65536}
BLOCK=${BLOCK:-65536}
RUNS=${RUNS:-3}
SEED=${SEED:-42}
BUILD=${BUILD:-auto}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
QEMU_ONLY=0
KEEP=0

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

for arg in "$@"; do
  case "$arg" in
    --qemu-only) QEMU_ONLY=1 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; usage >&2; exit 64 ;;
  esac
done

die() { echo "image-engine.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

for tool in qemu-img qemu-io java javac jar; do
  command -v "$tool" >/dev/null || die "$tool not found (qemu-img/qemu-io: apt-get install qemu-utils; java/javac/jar: a JDK 17)"
done
(( SIZE_MIB >= 4 )) || die "SIZE_MIB must be at least 4"
(( BLOCK % 512 == 0 && (SIZE_MIB * 1048576) % BLOCK == 0 )) || die "BLOCK must be a multiple of 512 dividing the size"
(( RUNS >= 1 )) || die "RUNS must be at least 1"

SIZE_BYTES=$(( SIZE_MIB * 1048576 ))

# ----------------------------------------------------------------------------- work dir
WORK=$(mktemp -d "$BENCH_DIR/blockpull-bench.XXXXXX")
cleanup() {
  if (( KEEP )); then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
need_kib=$(( SIZE_MIB * 1024 * 6 ))
free_kib=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
(( free_kib > need_kib )) || die "need about $(( need_kib / 1048576 + 1 )) GiB free in $BENCH_DIR, have $(( free_kib / 1048576 )) GiB"

# ----------------------------------------------------------------------------- build and compile
ENGINE_OK=1
ENGINE_WHY=""
build_jar
compile_bench_class EngineBench
engine() { java -Xms1g -Xmx2g -cp "$CP" dev.blockpull.bench.EngineBench "$@"; }

# ----------------------------------------------------------------------------- helpers
now() { echo "$EPOCHREALTIME"; }
mibps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1048576 / s }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v e="$1" -v q="$2" 'BEGIN { if (e == "n/a" || q == "n/a" || q == 0) print "n/a"; else printf "%.2fx", e / q }'; }

# Times one qemu command (wall clock, process start to exit, which includes open and the final
# flush at close); prints MiB/s of $1 bytes.
time_qemu() {
  local bytes=$1; shift
  local t0 t1
  t0=$(now)
  "$@" >qemu-cmd.log 2>&1 || { cat qemu-cmd.log >&2; die "failed: $*"; }
  t1=$(now)
  mibps "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}

# Runs the engine; sets E_RUNS to the MiB/s of its RESULT lines, or to "" when it failed.
E_RUNS=""
engine_runs() {
  local log=$1; shift
  E_RUNS=""
  if engine "$@" >"$log" 2>&1; then
    E_RUNS=$(grep '^RESULT' "$log" | sed 's/.*mib_per_s=//' | tr '\n' ' ')
  else
    ENGINE_OK=0
    ENGINE_WHY=$(grep -m1 -E 'Exception|Error' "$log" || tail -n 1 "$log")
    log "engine failed: $ENGINE_WHY"
  fi
}

declare -a ROWS=()
row() { ROWS+=("$(printf '%-58s %12s %12s %10s' "$1" "$2" "$3" "$(ratio "$3" "$2")")"); }

# ----------------------------------------------------------------------------- the chain
cd "$WORK"
log "creating a $SIZE_MIB MiB chain base <- mid <- top (cluster $CLUSTER) in $WORK"
qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" base.qcow2 "$SIZE_BYTES"
qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" -b base.qcow2 -F qcow2 mid.qcow2
qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" -b mid.qcow2 -F qcow2 top.qcow2
# Per MiB i: base has [0, 512K) of it, mid [384K, 640K) (over base's tail) plus a zero cluster
# at 0 every 8 MiB, top [768K, 896K) of every other MiB. About 70% of the guest holds data.
plant() { qemu-io -t writeback -f qcow2 "$1" >"$1.log" 2>&1; ! grep -qiE 'failed|error' "$1.log" || die "qemu-io: $(grep -m1 -iE 'failed|error' "$1.log")"; }
awk -v n="$SIZE_MIB" 'BEGIN { for (i = 0; i < n; i++) printf "write -P %d %d 524288\n", i % 250 + 1, i * 1048576 }' | plant base.qcow2
awk -v n="$SIZE_MIB" 'BEGIN { for (i = 0; i < n; i++) { printf "write -P %d %d 262144\n", (i + 7) % 250 + 1, i * 1048576 + 393216
                                                           if (i % 8 == 0) printf "write -z %d 65536\n", i * 1048576 } }' | plant mid.qcow2
awk -v n="$SIZE_MIB" 'BEGIN { for (i = 0; i < n; i += 2) printf "write -P %d %d 131072\n", (i + 13) % 250 + 1, i * 1048576 + 786432 }' | plant top.qcow2
for img in base mid top; do
  qemu-img check -q "$img.qcow2" || die "$img.qcow2 does not check clean"
done
data_mib=$(qemu-img map --output=json top.qcow2 | awk -F'"length": ' '/"data": true/ { split($2, a, ","); s += a[1] } END { printf "%d", s / 1048576 }')
log "chain ready: $data_mib MiB of data in $SIZE_MIB MiB"

# ----------------------------------------------------------------------------- (a) read the chain
log "(a) warming the page cache with the chain files"
cat base.qcow2 mid.qcow2 top.qcow2 >/dev/null
q_runs=""
for ((r = 1; r <= RUNS; r++)); do
  rm -f qemu.raw; sync
  q_runs+="$(time_qemu "$SIZE_BYTES" qemu-img convert -f qcow2 -O raw top.qcow2 qemu.raw) "
done
log "(a) qemu-img convert -O raw, MiB/s per run: $q_runs"
e_runs=""
if (( ! QEMU_ONLY )); then
  engine_runs engine-read.log read-chain top.qcow2 engine.raw --warmup 1 --runs "$RUNS" --sync; e_runs=$E_RUNS
  log "(a) engine read-chain, MiB/s per run: ${e_runs:-failed}"
  if [[ -n "$e_runs" ]]; then
    cmp -s qemu.raw engine.raw && log "(a) engine.raw and qemu.raw are byte-identical" \
      || { ENGINE_OK=0; ENGINE_WHY="read-chain output differs from qemu-img convert's"; log "(a) MISMATCH: $ENGINE_WHY"; }
  fi
fi
row "(a) chain -> raw ($SIZE_MIB MiB guest, 2 MiB reads)" "$(echo "$q_runs" | median)" "$(echo "$e_runs" | median)"
# (a') the same, the engine skipping what the chain's block status says is zero or unallocated,
# as convert does; (a) reads every byte and skips only all-zero buffers.
e_runs=""
if (( ! QEMU_ONLY )); then
  engine_runs engine-read-map.log read-chain top.qcow2 engine.raw --use-map --warmup 1 --runs "$RUNS" --sync; e_runs=$E_RUNS
  log "(a') engine read-chain --use-map, MiB/s per run: ${e_runs:-failed}"
  if [[ -n "$e_runs" ]] && ! cmp -s qemu.raw engine.raw; then
    ENGINE_OK=0; ENGINE_WHY="read-chain --use-map output differs from qemu-img convert's"; log "(a') MISMATCH: $ENGINE_WHY"
  fi
fi
row "(a') chain -> raw, engine skips holes by block status" "$(echo "$q_runs" | median)" "$(echo "$e_runs" | median)"
rm -f qemu.raw engine.raw

# ----------------------------------------------------------------------------- (b) random writes
COUNT=$(( SIZE_BYTES / BLOCK ))
qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" fresh.qcow2 "$SIZE_BYTES"
if ! engine offsets "$SIZE_BYTES" "$SIZE_BYTES" "$BLOCK" "$SEED" >offsets.txt 2>offsets.err; then
  die "EngineBench offsets failed: $(cat offsets.err)"
fi
# qemu-io's write is synchronous: one request in flight, as the engine's loop. -t writeback: no
# fdatasync per write (qemu-io's default is writethrough), one flush at the end, as the engine.
awk -v bs="$BLOCK" '{ printf "write -P %d %d %d\n", ($1 / bs) % 255 + 1, $1, bs } END { print "flush" }' offsets.txt >random.cmds
q_runs=""
for ((r = 1; r <= RUNS; r++)); do
  cp fresh.qcow2 qemu-random.qcow2; sync
  q_runs+="$(time_qemu "$SIZE_BYTES" sh -c 'qemu-io -t writeback -f qcow2 qemu-random.qcow2 <random.cmds >qemu-random.log 2>&1') "
  ! grep -qiE 'failed|error' qemu-random.log || die "qemu-io: $(grep -m1 -iE 'failed|error' qemu-random.log)"
done
log "(b) qemu-io random writes, MiB/s per run: $q_runs"
e_runs=""
if (( ! QEMU_ONLY )); then
  cp fresh.qcow2 engine-random.qcow2
  engine_runs engine-random.log write-random engine-random.qcow2 "$SIZE_BYTES" "$BLOCK" "$SEED" --warmup 1 --runs "$RUNS" --sync
  e_runs=$E_RUNS
  log "(b) engine write-random, MiB/s per run: ${e_runs:-failed}"
  if [[ -n "$e_runs" ]]; then
    if qemu-img check -q engine-random.qcow2 && qemu-img compare -q -f qcow2 -F qcow2 qemu-random.qcow2 engine-random.qcow2; then
      log "(b) engine image checks clean and equals qemu-io's"
    else
      ENGINE_OK=0; ENGINE_WHY="write-random image is not clean or differs from qemu-io's"; log "(b) MISMATCH: $ENGINE_WHY"
    fi
  fi
fi
row "(b) $((BLOCK / 1024)) KiB random writes, QD1, fresh qcow2" "$(echo "$q_runs" | median)" "$(echo "$e_runs" | median)"
rm -f qemu-random.qcow2 engine-random.qcow2

# ----------------------------------------------------------------------------- (c) sequential writes
# qemu-img bench cannot write at random offsets; sequential with one request in flight (-d 1)
# is what it measures closest to (b). It writes its own pattern; only speed is compared.
q_runs=""
for ((r = 1; r <= RUNS; r++)); do
  cp fresh.qcow2 qemu-seq.qcow2; sync
  q_runs+="$(time_qemu "$SIZE_BYTES" qemu-img bench -w -t writeback -d 1 -f qcow2 -c "$COUNT" -s "$BLOCK" -S "$BLOCK" qemu-seq.qcow2) "
done
log "(c) qemu-img bench -w -d 1, MiB/s per run: $q_runs"
e_runs=""
if (( ! QEMU_ONLY )); then
  cp fresh.qcow2 engine-seq.qcow2
  engine_runs engine-seq.log write-random engine-seq.qcow2 "$SIZE_BYTES" "$BLOCK" sequential --warmup 1 --runs "$RUNS" --sync
  e_runs=$E_RUNS
  log "(c) engine sequential writes, MiB/s per run: ${e_runs:-failed}"
fi
row "(c) $((BLOCK / 1024)) KiB sequential writes, QD1, fresh qcow2" "$(echo "$q_runs" | median)" "$(echo "$e_runs" | median)"

# ----------------------------------------------------------------------------- report
echo
echo "Blockpull image-engine bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -m), $(nproc) CPUs"
echo "$(qemu-img --version | head -n 1); $(java -version 2>&1 | head -n 1)"
echo "chain: $SIZE_MIB MiB guest, $data_mib MiB data in base+mid+top, cluster $CLUSTER B; block $BLOCK B; seed $SEED"
echo "warm page cache (no drop_caches; sync before each run, untimed), median of $RUNS runs;"
echo "engine: 1 JIT warm-up run, in-JVM timing;"
echo "qemu: wall clock per process. MiB/s of guest bytes (MiB = 2^20 B)."
echo
printf '%-58s %12s %12s %10s\n' "measurement" "qemu MiB/s" "engine MiB/s" "engine/qemu"
printf '%s\n' "${ROWS[@]}"
if (( QEMU_ONLY )); then
  echo; echo "engine: skipped (--qemu-only)"
elif (( ! ENGINE_OK )); then
  echo; echo "ENGINE FAILED: $ENGINE_WHY"
  for f in engine-read.log engine-read-map.log engine-random.log engine-seq.log; do
    [[ -s "$f" ]] && { echo "--- $f"; tail -n 15 "$f"; }
  done
  exit 2
fi
