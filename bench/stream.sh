#!/usr/bin/env bash
# Blockpull stream bench: the service's /jobs/stream against qemu-storage-daemon's block-stream,
# side by side in one run, on identical copies of the same chains, cold page cache, buffered and
# direct I/O. Every result is verified; the table gives MiB/s, BP/QSD, peak RSS and CPU seconds.
#
#   bench/stream.sh [--keep] [--help]
#
# Environment (defaults in brackets):
#   SIZES        guest sizes of the chains, in MiB; "1024 4096" adds a 4 GiB chain       [1024]
#   RUNS         rounds; each round runs QSD, then Blockpull, on every case and mode     [3]
#   MODES        buffered (QSD cache.direct=off,aio=threads; Blockpull default)
#                direct   (QSD cache.direct=on,aio=native; --blockpull.io.direct=true)  [buffered direct]
#   CASES        base  (mid -> top: base-node = base's node, top ends up on base.qcow2)
#                whole (no base: the whole chain into top, no backing left)              [base whole]
#   CLUSTER      qcow2 cluster size of every image                                      [65536]
#   JOB_TIMEOUT  seconds one run (start, job, stop, verification) may take              [600]
#   BUILD        auto (build when no jar or sources are newer) | always | never          [auto]
#   BENCH_DIR    where the temp dir goes (needs about 4x the largest size free)          [${TMPDIR:-/tmp}]
#   --keep       keep the temp dir: the chains, results.txt, and every failed run's copy with its log
#
# Per run: the chain base <- mid <- top is copied (cp --sparse=always) into a fresh dir, fsynced,
# the process is started (the jar with that dir as data root, on 127.0.0.1 and a free port; or
# qemu-storage-daemon with a QMP unix socket), the copies are dropped from the page cache
# (fsync + POSIX_FADV_DONTNEED), then the chain is opened and streamed. Job seconds = created ->
# concluded: QMP event timestamps for QSD, the job's createdAt -> finishedAt for Blockpull.
# MiB/s = bytes the case must copy (from qemu-img map of the original) / job seconds.
# Verified after the process has exited: qemu-img compare against the original top, qemu-img
# check, and the top's backing file (base.qcow2 for base, none for whole). Exit 2 if any failed.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
SIZES=${SIZES:-1024}
RUNS=${RUNS:-3}
MODES=${MODES:-buffered direct}
CASES=${CASES:-base whole}
CLUSTER=${CLUSTER:-65536}
JOB_TIMEOUT=${JOB_TIMEOUT:-600}
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

die() { echo "stream.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

for tool in qemu-img qemu-io qemu-storage-daemon python3 java timeout; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: qemu-utils, qemu-system-common, python3, a JDK 17, coreutils)"
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer: $RUNS"
for m in $MODES; do [[ $m == buffered || $m == direct ]] || die "MODES: buffered and/or direct, not $m"; done
for c in $CASES; do [[ $c == base || $c == whole ]] || die "CASES: base and/or whole, not $c"; done
max_mib=0
for s in $SIZES; do
  [[ "$s" =~ ^[0-9]+$ ]] && (( s >= 16 )) || die "sizes are MiB, at least 16: $s"
  (( s > max_mib )) && max_mib=$s
done

# ----------------------------------------------------------------------------- work dir, cleanup
WORK=$(mktemp -d "$BENCH_DIR/blockpull-stream-bench.XXXXXX")
PIDS="$WORK/pids"   # every child process the runner starts (java, qemu-storage-daemon)
RUNNER=""           # the running timeout + run1.py, in its own process group
cleanup() {
  local pid
  # timeout passes the TERM on to its process group; run1.py then stops its child by pid
  if [[ -n "$RUNNER" ]]; then kill "$RUNNER" 2>/dev/null || true; wait "$RUNNER" 2>/dev/null || true; fi
  if [[ -f "$PIDS" ]]; then
    # only a process of this run: its command line names the work dir (a pid may have been reused)
    while read -r pid; do
      if grep -qF "$WORK" "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    done <"$PIDS"
  fi
  if (( KEEP )); then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
need_kib=$(( max_mib * 1024 * 4 ))
free_kib=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
(( free_kib > need_kib )) || die "need about $(( need_kib / 1048576 + 1 )) GiB free in $BENCH_DIR, have $(( free_kib / 1048576 )) GiB"

build_jar

# ----------------------------------------------------------------------------- the runner
# run1.py info DIR                          -> "base=BYTES whole=BYTES": bytes each case must copy
# run1.py run qsd|bp MODE CASE DIR ORIG JAR -> one "RESULT ..." line; exit 0 only if verified
# run1.py report RESULTS                    -> the table
cat >"$WORK/run1.py" <<'PY'
import json, os, signal, socket, statistics, subprocess, sys, time, urllib.request, datetime

def qjson(*a):
    return json.loads(subprocess.check_output(["qemu-img", *a, "--output=json"]))

def alloc(top, depths):
    return sum(e["length"] for e in qjson("map", "-f", "qcow2", top)
               if e["depth"] in depths and e.get("present", e["data"] or e["zero"]))

def cold(d):
    for n in ("base", "mid", "top"):
        fd = os.open(os.path.join(d, n + ".qcow2"), os.O_RDONLY)
        os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)

def hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))

def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        x = f.read().rsplit(")", 1)[1].split()
    return (int(x[11]) + int(x[12])) / os.sysconf("SC_CLK_TCK")

def stop(p, sig, wait):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()

def qsd(mode, case, d, deadline):
    direct = mode == "direct"
    sock = os.path.join(d, "qmp.sock")
    p = subprocess.Popen(["qemu-storage-daemon", "--chardev", "socket,id=m,path=%s,server=on,wait=off" % sock,
                          "--monitor", "chardev=m,mode=control"],
                         stdout=open(os.path.join(d, "qsd.log"), "w"), stderr=subprocess.STDOUT)
    with open(os.environ["PIDS"], "a") as f:
        f.write("%d\n" % p.pid)
    try:
        s = socket.socket(socket.AF_UNIX)
        while True:
            try:
                s.connect(sock); break
            except OSError:
                if p.poll() is not None or time.time() > deadline:
                    raise RuntimeError("qemu-storage-daemon did not open its QMP socket")
                time.sleep(0.01)
        s.settimeout(max(1, deadline - time.time()))
        rf = s.makefile("r")
        events = []
        def cmd(name, **args):
            s.sendall((json.dumps({"execute": name, "arguments": args}) + "\n").encode())
            while True:
                m = json.loads(rf.readline())
                if "event" in m: events.append(m)
                elif "error" in m: raise RuntimeError("QMP %s: %s" % (name, m["error"]))
                else: return m["return"]
        json.loads(rf.readline())
        cmd("qmp_capabilities")
        cold(d)
        cache = {"direct": direct, "no-flush": False}
        for n, backing in (("base", None), ("mid", "base"), ("top", "mid")):
            ro = n != "top"
            cmd("blockdev-add", driver="file", **{"node-name": n + "-file", "read-only": ro},
                filename=os.path.join(d, n + ".qcow2"), cache=cache, aio="native" if direct else "threads")
            cmd("blockdev-add", driver="qcow2", **{"node-name": n, "read-only": ro}, file=n + "-file",
                backing=backing, cache=cache)
        c0 = cpu_s(p.pid)
        args = {"job-id": "s1", "device": "top", "auto-dismiss": False}
        if case == "base":
            args["base-node"] = "base"
        cmd("block-stream", **args)
        ts, done = {}, None
        while "concluded" not in ts:
            m = events.pop(0) if events else json.loads(rf.readline())
            t = m.get("timestamp", {})
            if m.get("event") == "JOB_STATUS_CHANGE" and m["data"]["id"] == "s1":
                ts[m["data"]["status"]] = t["seconds"] + t["microseconds"] / 1e6
            elif m.get("event") == "BLOCK_JOB_COMPLETED":
                done = m["data"]
        c1 = cpu_s(p.pid)
        if done is None:
            done = next((m["data"] for m in events if m.get("event") == "BLOCK_JOB_COMPLETED"), {})
        if done.get("error"):
            raise RuntimeError("block-stream failed: %s" % done["error"])
        res = {"job_s": ts["concluded"] - ts["created"], "hwm_kb": hwm_kb(p.pid), "cpu_s": c1 - c0}
        cmd("job-dismiss", id="s1")
        try:
            cmd("quit")
        except (ValueError, OSError):
            pass
        p.wait(60)
        if p.returncode != 0:
            raise RuntimeError("qemu-storage-daemon exited with %d" % p.returncode)
        return res
    finally:
        stop(p, signal.SIGTERM, 10)

def instant(s):   # ISO-8601 instant with up to 9 fraction digits (or epoch seconds)
    if isinstance(s, (int, float)):
        return float(s)
    s = s.replace("Z", "+00:00")
    if "." in s:
        a, b = s.split(".", 1)
        frac = b[:next((i for i, c in enumerate(b) if not c.isdigit()), len(b))]
        s = a + "." + (frac + "000000")[:6] + b[len(frac):]
    return datetime.datetime.fromisoformat(s).timestamp()

def bp(mode, case, d, jar, deadline):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    url = "http://127.0.0.1:%d" % port
    argv = ["java", "-jar", jar, "--server.port=%d" % port, "--server.address=127.0.0.1",
            "--blockpull.data-root=" + d, "--blockpull.nbd.port=0", "--blockpull.nbd.bind-address=127.0.0.1"]
    if mode == "direct":
        argv.append("--blockpull.io.direct=true")
    p = subprocess.Popen(argv, stdout=open(os.path.join(d, "blockpull.log"), "w"), stderr=subprocess.STDOUT)
    with open(os.environ["PIDS"], "a") as f:
        f.write("%d\n" % p.pid)
    def http(method, path, body=None):
        req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")
    try:
        while True:
            try:
                if http("GET", "/actuator/health")[0] in (200, 503): break
            except OSError:
                pass
            if p.poll() is not None or time.time() > deadline:
                raise RuntimeError("Blockpull did not start (see blockpull.log)")
            time.sleep(0.2)
        cold(d)
        st, r = http("POST", "/nodes", {"nodeName": "top", "driver": "qcow2", "file": "top.qcow2"})
        if st not in (200, 201): raise RuntimeError("POST /nodes: %s %s" % (st, r))
        body = {"jobId": "s1", "device": "top"}
        if case == "base":
            st, chain = http("GET", "/nodes/top/chain")
            body["baseNode"] = next(n["nodeName"] for n in chain if os.path.basename(n.get("filename") or "") == "base.qcow2")
        c0 = cpu_s(p.pid)
        st, r = http("POST", "/jobs/stream", body)
        if st != 201: raise RuntimeError("POST /jobs/stream: %s %s" % (st, r))
        while True:
            st, j = http("GET", "/jobs/stream/s1")
            if st == 200 and j["status"] in ("concluded", "null"): break
            if st != 200 or time.time() > deadline: raise RuntimeError("GET /jobs/stream/s1: %s %s" % (st, j))
            time.sleep(0.05)
        c1 = cpu_s(p.pid)
        if j.get("result") != "completed": raise RuntimeError("stream job: %s" % j)
        res = {"job_s": instant(j["finishedAt"]) - instant(j["createdAt"]), "hwm_kb": hwm_kb(p.pid), "cpu_s": c1 - c0}
        stop(p, signal.SIGTERM, 60)   # graceful: images flushed and closed
        if p.returncode not in (0, 143): raise RuntimeError("Blockpull exited with %d" % p.returncode)
        return res
    finally:
        stop(p, signal.SIGKILL, 10)

def verify(case, d, orig):
    top, why = os.path.join(d, "top.qcow2"), []
    c = subprocess.run(["qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", top, os.path.join(orig, "top.qcow2")],
                       capture_output=True, text=True)
    if c.returncode: why.append("compare: differs from the original chain " + c.stdout + c.stderr)
    c = subprocess.run(["qemu-img", "check", "-q", "-f", "qcow2", top], capture_output=True, text=True)
    if c.returncode: why.append("check: " + (c.stdout + c.stderr).strip())
    b = qjson("info", "-f", "qcow2", top).get("backing-filename")
    want = os.path.realpath(os.path.join(d, "base.qcow2")) if case == "base" else None
    got = os.path.realpath(os.path.join(d, b)) if b else None
    if got != want: why.append("backing file %r, want %r" % (b, want and "base.qcow2"))
    return "; ".join(why)

def report(path):
    rows = [dict(kv.split("=", 1) for kv in l.split()[1:]) for l in open(path) if l.startswith("RESULT ")]
    med = lambda v: statistics.median(v) if v else None
    f = lambda v, fmt: "-" if v is None else fmt % v
    mib = lambda kb: "-" if kb is None else "%.0f MiB" % (kb / 1024)
    print("%5s  %-6s %-8s %10s %10s %18s %9s %9s %8s %8s %8s" % ("MiB", "case", "I/O", "QSD MiB/s", "BP MiB/s",
          "BP/QSD (min-max)", "QSD RSS", "BP RSS", "QSD CPU", "BP CPU", "verified"))
    keys = []
    for r in rows:
        k = (r["size"], r["case"], r["mode"])
        if k not in keys: keys.append(k)
    for k in keys:
        rs = [r for r in rows if (r["size"], r["case"], r["mode"]) == k]
        side = lambda s, fld: [float(r[fld]) for r in rs if r["side"] == s and r.get(fld, "-") != "-"]
        byround = {s: {r["round"]: float(r["mibps"]) for r in rs if r["side"] == s and r["mibps"] != "-"} for s in ("qsd", "bp")}
        ratios = sorted(byround["bp"][n] / byround["qsd"][n] for n in byround["bp"] if n in byround["qsd"])
        ratio = "-" if not ratios else "%.2fx (%.2f-%.2f)" % (med(ratios), ratios[0], ratios[-1])
        ok = sum(r["ok"] == "1" for r in rs)
        print("%5s  %-6s %-8s %10s %10s %18s %9s %9s %8s %8s %8s" % (k[0], k[1], k[2],
              f(med(side("qsd", "mibps")), "%.0f"), f(med(side("bp", "mibps")), "%.0f"), ratio,
              mib(med(side("qsd", "hwm_kb"))), mib(med(side("bp", "hwm_kb"))),
              f(med(side("qsd", "cpu_s")), "%.2fs"), f(med(side("bp", "cpu_s")), "%.2fs"), "%d/%d" % (ok, len(rs))))

def main():
    cmd = sys.argv[1]
    if cmd == "info":
        top = os.path.join(sys.argv[2], "top.qcow2")
        print("base=%d whole=%d" % (alloc(top, {1}), alloc(top, {1, 2})))
    elif cmd == "report":
        report(sys.argv[2])
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # run the finally blocks: stop the child
        side, mode, case, d, orig, jar, timeout = sys.argv[2:9]
        deadline = time.time() + float(timeout)
        out = {"job_s": None, "hwm_kb": None, "cpu_s": None}
        try:
            out = qsd(mode, case, d, deadline) if side == "qsd" else bp(mode, case, d, jar, deadline)
            why = verify(case, d, orig)
        except Exception as e:   # noqa: a failed run is reported, not fatal
            why = "%s: %s" % (type(e).__name__, e)
        fmt = lambda v, s: "-" if v is None else s % v
        print("RESULT job_s=%s hwm_kb=%s cpu_s=%s ok=%d" % (fmt(out["job_s"], "%.4f"), fmt(out["hwm_kb"], "%d"),
              fmt(out["cpu_s"], "%.3f"), 0 if why else 1))
        if why:
            print("FAILED " + " ".join(why.split()))
        sys.exit(1 if why else 0)

main()
PY

# ----------------------------------------------------------------------------- chains
# Per MiB i: base [0, 512K); mid [384K, 640K), a zero cluster over base every 8 MiB and an unaligned
# 4 KiB write into a base cluster every 16 MiB (qcow2 COW); top [768K, 896K) of every other MiB.
# Patterns change every MiB, so misplaced data fails qemu-img compare.
make_chain() {
  local d=$1 mib=$2 f
  mkdir -p "$d"
  qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" "$d/base.qcow2" "$(( mib * 1048576 ))"
  qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" -b base.qcow2 -F qcow2 "$d/mid.qcow2"
  qemu-img create -q -f qcow2 -o cluster_size="$CLUSTER" -b mid.qcow2 -F qcow2 "$d/top.qcow2"
  awk -v n="$mib" 'BEGIN { for (i = 0; i < n; i++) printf "write -P %d %d 524288\n", i % 250 + 1, i * 1048576 }' >"$d/base.io"
  awk -v n="$mib" 'BEGIN { for (i = 0; i < n; i++) { printf "write -P %d %d 262144\n", (i + 7) % 250 + 1, i * 1048576 + 393216
                                                     if (i % 8 == 0) printf "write -z %d 65536\n", i * 1048576
                                                     if (i % 16 == 3) printf "write -P %d %d 4096\n", (i + 99) % 250 + 1, i * 1048576 + 200704 } }' >"$d/mid.io"
  awk -v n="$mib" 'BEGIN { for (i = 0; i < n; i += 2) printf "write -P %d %d 131072\n", (i + 13) % 250 + 1, i * 1048576 + 786432 }' >"$d/top.io"
  for f in base mid top; do
    qemu-io -t writeback -f qcow2 "$d/$f.qcow2" <"$d/$f.io" >"$d/$f.io.log" 2>&1 || die "qemu-io $f failed (see $d/$f.io.log)"
    ! grep -qiE 'failed|error' "$d/$f.io.log" || die "qemu-io $f: $(grep -m1 -iE 'failed|error' "$d/$f.io.log")"
    qemu-img check -q "$d/$f.qcow2" || die "$f.qcow2 does not check clean"
    rm -f "$d/$f.io" "$d/$f.io.log"
  done
  sync -f "$d"
}

# ----------------------------------------------------------------------------- the runs
RESULTS="$WORK/results.txt"; : >"$RESULTS"
export PIDS
FAILED=0
for SIZE_MIB in $SIZES; do
  ORIG="$WORK/chain-$SIZE_MIB"
  log "creating a $SIZE_MIB MiB chain base <- mid <- top (cluster $CLUSTER)"
  make_chain "$ORIG" "$SIZE_MIB"
  declare -A COPY=()
  for kv in $(python3 "$WORK/run1.py" info "$ORIG"); do COPY[${kv%%=*}]=${kv#*=}; done
  log "bytes to copy: base ${COPY[base]}, whole ${COPY[whole]}"
  for ((r = 1; r <= RUNS; r++)); do
    for CASE in $CASES; do
      for MODE in $MODES; do
        for SIDE in qsd bp; do
          RUN="$WORK/run"; rm -rf "$RUN"; mkdir -p "$RUN"
          cp --sparse=always "$ORIG"/{base,mid,top}.qcow2 "$RUN/"
          # in the background, so that a signal to this script is handled at once (trap, cleanup)
          timeout -k 10 "$(( JOB_TIMEOUT + 30 ))" python3 "$WORK/run1.py" run "$SIDE" "$MODE" "$CASE" "$RUN" "$ORIG" "$JAR" \
            "$JOB_TIMEOUT" >"$WORK/run1.out" 2>&1 &
          RUNNER=$!
          wait "$RUNNER" || true
          RUNNER=""
          out=$(<"$WORK/run1.out")
          res=$(grep -m1 '^RESULT ' <<<"$out" || echo "RESULT job_s=- hwm_kb=- cpu_s=- ok=0")
          job_s=$(sed -n 's/.*job_s=\([^ ]*\).*/\1/p' <<<"$res")
          mibps=$(awk -v b="${COPY[$CASE]}" -v s="$job_s" 'BEGIN { if (s == "-" || s <= 0) print "-"; else printf "%.1f", b / 1048576 / s }')
          echo "$res size=$SIZE_MIB case=$CASE mode=$MODE round=$r side=$SIDE mibps=$mibps" >>"$RESULTS"
          if [[ "$res" == *ok=1* ]]; then
            log "round $r $SIZE_MIB MiB $CASE $MODE $SIDE: ${job_s}s, $mibps MiB/s, verified"
          else
            FAILED=1
            why=$(grep -m1 '^FAILED' <<<"$out" || tail -n 3 <<<"$out" | tr '\n' ' ')
            echo "FAILED size=$SIZE_MIB case=$CASE mode=$MODE round=$r side=$SIDE: ${why#FAILED }" >>"$RESULTS"
            log "round $r $SIZE_MIB MiB $CASE $MODE $SIDE FAILED: ${why#FAILED }"
            if (( KEEP )); then mv "$RUN" "$WORK/failed-$SIZE_MIB-$CASE-$MODE-$SIDE-$r"; fi
          fi
        done
      done
    done
  done
  rm -rf "$WORK/run"
  if (( ! KEEP )); then rm -rf "$ORIG"; fi
  unset COPY
done

# ----------------------------------------------------------------------------- report
echo
echo "Blockpull /jobs/stream vs qemu-storage-daemon block-stream, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr), $(findmnt -no FSTYPE --target "$WORK") on $(findmnt -no SOURCE --target "$WORK")"
echo "$(qemu-storage-daemon --version | head -n 1); $(java -version 2>&1 | head -n 1)"
echo "jar: ${JAR#"$ROOT"/} (commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src pom.xml || echo ', src modified'))"
echo "chains base <- mid <- top, cluster $CLUSTER B; cold page cache; $RUNS round(s), QSD then Blockpull;"
echo "MiB/s = bytes to copy / job seconds (created -> concluded), median; BP/QSD = median of the"
echo "pairwise ratios of the rounds (min-max); RSS = peak (VmHWM) of the process, median; CPU = its"
echo "user+sys seconds during the job. Cases: base = mid -> top (base-node base), whole = no base."
echo
python3 "$WORK/run1.py" report "$RESULTS"
if (( FAILED )); then
  echo; echo "SOME RUNS FAILED OR DID NOT VERIFY:"; grep '^FAILED' "$RESULTS" || true; exit 2
fi
