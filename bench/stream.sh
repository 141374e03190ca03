#!/usr/bin/env bash
# Blockpull stream bench: a Blockpull stream job against qemu-img rebase (and qemu-storage-daemon's
# block-stream where installed), same chains, same machine, same run.
#
#   bench/stream.sh [--keep] [--help]
#
# Environment (defaults in brackets):
#   SIZES      guest sizes of the chains, in MiB; "1024 4096" adds the 4 GiB chain   [1024]
#   CLUSTER    qcow2 cluster size of every image                                    [65536]
#   RUNS       measured runs per side; the median is reported                       [1]
#   COPIES     copies a Blockpull job keeps in flight                               [8]
#   BUILD      auto (build when no jar or sources are newer) | always | never        [auto]
#   BENCH_DIR  where the temp dir goes                                              [${TMPDIR:-/tmp}]
#
# Two measurements per size, each on a fresh copy of the top image:
#   partial: top <- mid <- base  becomes  top <- base   (stream baseNode=base | qemu-img rebase -b base.qcow2)
#   full:    top <- mid <- base  becomes  top           (stream, no base      | qemu-img rebase -b "")
# qemu-img rebase runs in its safe mode, which keeps the guest content (it compares the old and the
# new backing and copies what differs): the content-preserving equivalent of a stream job.
# Each Blockpull result is checked against qemu-img's (qemu-img compare) and by qemu-img check.
# Warm page cache: the chain was just written; caches are not dropped (not possible without root).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
SIZES=${SIZES:-1024}
CLUSTER=${CLUSTER:-65536}
RUNS=${RUNS:-1}
COPIES=${COPIES:-8}
BUILD=${BUILD:-auto}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
KEEP=0

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; usage >&2; exit 64 ;;
  esac
done

die() { echo "stream.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

for tool in qemu-img qemu-io java javac jar; do
  command -v "$tool" >/dev/null || die "$tool not found (qemu-img/qemu-io: apt-get install qemu-utils; java/javac/jar: a JDK 17)"
done
(( RUNS >= 1 )) || die "RUNS must be at least 1"
QSD=$(command -v qemu-storage-daemon || true)
if [[ -n "$QSD" ]] && ! command -v python3 >/dev/null; then
  log "qemu-storage-daemon found but python3 (the QMP client here) is missing: its row is skipped"
  QSD=""
fi

# ----------------------------------------------------------------------------- work dir
WORK=$(mktemp -d "$BENCH_DIR/blockpull-stream-bench.XXXXXX")
cleanup() {
  if (( KEEP )); then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
max_mib=0
for s in $SIZES; do (( s >= 4 )) || die "sizes must be at least 4 MiB: $s"; (( s > max_mib )) && max_mib=$s; done
need_kib=$(( max_mib * 1024 * 5 ))
free_kib=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
(( free_kib > need_kib )) || die "need about $(( need_kib / 1048576 + 1 )) GiB free in $BENCH_DIR, have $(( free_kib / 1048576 )) GiB"

# ----------------------------------------------------------------------------- build and compile
build_jar
compile_bench_class StreamBench

# ----------------------------------------------------------------------------- helpers
now() { echo "$EPOCHREALTIME"; }
mibps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1048576 / s }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v e="$1" -v q="$2" 'BEGIN { if (e == "n/a" || q == "n/a" || q == 0) print "n/a"; else printf "%.2fx", e / q }'; }
FAILED=0
FAIL_WHY=""

# qemu-storage-daemon: one block-stream job over QMP; prints the seconds from the command to the
# job's conclusion (the daemon's start-up and the opening of the chain are not timed).
qsd_stream() {
  local dir=$1 top=$2 base=$3
  python3 - "$QSD" "$dir" "$top" "$base" <<'PY'
import json, os, socket, subprocess, sys, time
qsd, d, top, base = sys.argv[1:5]
sock = os.path.join(d, "qmp.sock")
args = [qsd, "--chardev", f"socket,id=m,path={sock},server=on,wait=off", "--monitor", "chardev=m",
        "--blockdev", f"driver=file,node-name=tf,filename={os.path.join(d, top)}",
        "--blockdev", "driver=qcow2,node-name=top,file=tf"]
p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
for _ in range(500):
    if os.path.exists(sock): break
    time.sleep(0.01)
s = socket.socket(socket.AF_UNIX); s.connect(sock); f = s.makefile("rw")
def rd(): return json.loads(f.readline())
def cmd(c, **a):
    f.write(json.dumps({"execute": c, "arguments": a}) + "\n"); f.flush()
    while True:
        m = rd()
        if "return" in m or "error" in m: return m
rd(); cmd("qmp_capabilities")
args = {"job-id": "j", "device": "top"}
if base != "full":
    # the base is the chain's bottom node; find its node name
    nodes = cmd("query-named-block-nodes")["return"]
    b = [n["node-name"] for n in nodes if n["file"].endswith("/" + base) and n["drv"] == "qcow2"]
    args["base-node"] = b[0]
t0 = time.time(); r = cmd("block-stream", **args)
if "error" in r: print(r, file=sys.stderr); sys.exit(2)
while True:
    m = rd()
    if m.get("event") == "JOB_STATUS_CHANGE" and m["data"]["status"] == "concluded": break
    if m.get("event") == "BLOCK_JOB_COMPLETED" and m["data"].get("error"): print(m, file=sys.stderr); sys.exit(2)
print("%.3f" % (time.time() - t0))
cmd("quit"); p.wait(10)
PY
}

declare -a ROWS=()
row() { ROWS+=("$(printf '%-44s %11s %11s %11s %13s' "$1" "$2" "$3" "$4" "$(ratio "$2" "$3")")"); }

cd "$WORK"
for SIZE_MIB in $SIZES; do
  SIZE_BYTES=$(( SIZE_MIB * 1048576 ))
  D="$WORK/c$SIZE_MIB"; mkdir -p "$D"; cd "$D"
  log "creating a $SIZE_MIB MiB chain base <- mid <- top (cluster $CLUSTER)"
  qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" base.qcow2 "$SIZE_BYTES"
  qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" -b base.qcow2 -F qcow2 mid.qcow2
  qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" -b mid.qcow2 -F qcow2 top.qcow2
  # Per MiB i: base [0, 512K), mid [384K, 640K) plus a zero cluster every 8 MiB, top [768K, 896K) of every other MiB.
  plant() { qemu-io -t writeback -f qcow2 "$1" >"$1.log" 2>&1; ! grep -qiE 'failed|error' "$1.log" || die "qemu-io: $(grep -m1 -iE 'failed|error' "$1.log")"; }
  awk -v n="$SIZE_MIB" 'BEGIN { for (i = 0; i < n; i++) printf "write -P %d %d 524288\n", i % 250 + 1, i * 1048576 }' | plant base.qcow2
  awk -v n="$SIZE_MIB" 'BEGIN { for (i = 0; i < n; i++) { printf "write -P %d %d 262144\n", (i + 7) % 250 + 1, i * 1048576 + 393216
                                                             if (i % 8 == 0) printf "write -z %d 65536\n", i * 1048576 } }' | plant mid.qcow2
  awk -v n="$SIZE_MIB" 'BEGIN { for (i = 0; i < n; i += 2) printf "write -P %d %d 131072\n", (i + 13) % 250 + 1, i * 1048576 + 786432 }' | plant top.qcow2
  cat base.qcow2 mid.qcow2 top.qcow2 >/dev/null

  for MODE in partial full; do
    if [[ $MODE == partial ]]; then rebase_to=(-b base.qcow2 -F qcow2); depth=2; qbase=base.qcow2
    else rebase_to=(-b ""); depth=full; qbase=full; fi
    q_runs=""; b_runs=""; s_runs=""
    for ((r = 1; r <= RUNS; r++)); do
      cp top.qcow2 q-top.qcow2; sync
      t0=$(now)
      qemu-img rebase -f qcow2 "${rebase_to[@]}" q-top.qcow2 >rebase.log 2>&1 || { cat rebase.log >&2; die "qemu-img rebase failed"; }
      t1=$(now)
      q_runs+="$(mibps "$SIZE_BYTES" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')") "

      cp top.qcow2 b-top.qcow2; sync
      if java -Xms512m -Xmx1g -cp "$CP" dev.blockpull.bench.StreamBench "$D" b-top.qcow2 "$depth" "$SIZE_BYTES" \
           --copies "$COPIES" >bench.log 2>&1; then
        b_runs+="$(grep '^RESULT' bench.log | sed 's/.*mib_per_s=\([0-9.]*\).*/\1/') "
        if ! qemu-img compare -q -f qcow2 -F qcow2 q-top.qcow2 b-top.qcow2 || ! qemu-img check -q b-top.qcow2; then
          FAILED=1; FAIL_WHY="$SIZE_MIB MiB $MODE: Blockpull's top differs from qemu-img rebase's or does not check clean"
          log "MISMATCH: $FAIL_WHY"
        fi
      else
        FAILED=1; FAIL_WHY="$SIZE_MIB MiB $MODE: $(grep -m1 -E 'Exception|Error|failed' bench.log || tail -n 1 bench.log)"
        log "Blockpull failed: $FAIL_WHY"
      fi

      if [[ -n "$QSD" ]]; then
        cp top.qcow2 s-top.qcow2; sync
        if secs=$(qsd_stream "$D" s-top.qcow2 "$qbase" 2>qsd.log); then
          s_runs+="$(mibps "$SIZE_BYTES" "$secs") "
        else
          log "qemu-storage-daemon run failed: $(head -c 300 qsd.log)"
        fi
      fi
    done
    log "$SIZE_MIB MiB $MODE: qemu-img rebase MiB/s: $q_runs; Blockpull MiB/s: $b_runs${QSD:+; qsd block-stream MiB/s: $s_runs}"
    s_med=$([[ -n "$QSD" ]] && echo "$s_runs" | median || echo "absent")
    label="$SIZE_MIB MiB $MODE"
    [[ $MODE == partial ]] && label+=" (top<-mid<-base => top<-base)" || label+=" (flatten)"
    row "$label" "$(echo "$b_runs" | median)" "$(echo "$q_runs" | median)" "$s_med"
    rm -f q-top.qcow2 b-top.qcow2 s-top.qcow2
  done
  cd "$WORK"; rm -rf "$D"
done

# ----------------------------------------------------------------------------- report
echo
echo "Blockpull stream bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -m), $(nproc) CPUs"
echo "$(qemu-img --version | head -n 1); $(java -version 2>&1 | head -n 1)"
echo "chains base <- mid <- top, cluster $CLUSTER B; Blockpull: $COPIES copies in flight, 512 KiB chunks;"
echo "median of $RUNS run(s); MiB/s of guest bytes (MiB = 2^20 B); warm page cache."
echo "qemu-img rebase (safe mode): wall clock of the process. Blockpull: start request to concluded job, in the JVM."
if [[ -z "$QSD" ]]; then
  echo "qemu-storage-daemon: not installed here, its block-stream column says 'absent' (Debian: qemu-system-common)."
fi
echo
printf '%-44s %11s %11s %11s %13s\n' "chain" "Blockpull" "qemu-img" "qsd stream" "Blockpull/qemu-img"
printf '%s\n' "${ROWS[@]}"
if (( FAILED )); then
  echo; echo "BLOCKPULL FAILED OR DIFFERS: $FAIL_WHY"; exit 2
fi
