#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Latency protection on a real GPU: a latency-critical MLP tenant (open loop,
# lc.py) beside a saturating best-effort bf16 matmul tenant of short kernels
# (4096³, about 0.2 ms), alone, with bare sharing, and under cusliced with the
# MLP at --priority high. Reports the MLP's p50/p99 against alone and the
# matmul's throughput against alone, all in one run.
#
#   bench/latency/run.sh BUILD_DIR [SECONDS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
seconds=${2:-4}
out=${OUT:-$here/../results}
python=${PYTHON:-python3}
mkdir -p "$out"
cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg" ] || { echo "no cgroup v2" >&2; exit 77; }
nvidia-smi -L >/dev/null 2>&1 || { echo "no GPU" >&2; exit 77; }

rt=$(mktemp -d /tmp/cuslice-latency.XXXXXX)
export CUSLICE_ADMIN_SOCKET=$rt/run/admin.sock
"$build/tools/cusliced" --runtime-dir "$rt/run" --state "$rt/state.json" 2>"$rt/cusliced.log" &
daemon=$!
trap 'kill $daemon 2>/dev/null; rmdir "$cg/cuslice-lat/lc" "$cg/cuslice-lat/be" "$cg/cuslice-lat" 2>/dev/null' EXIT
mkdir -p "$cg/cuslice-lat/lc" "$cg/cuslice-lat/be"
for i in $(seq 50); do [ -S "$rt/run/admin.sock" ] && break; sleep 0.1; done

window() { "$python" -c "import time; s = time.monotonic() + 10; print(s, s + $1)"; }
# run_in GROUP|bare SCRIPT ARGS...: a python workload in that tenant's cgroup under the shim
run_in() {
	local group=$1
	shift
	if [ "$group" = bare ]; then
		"$python" "$@"
	else
		sh -c "echo \$\$ > $cg/cuslice-lat/$group/cgroup.procs && exec env LD_PRELOAD=$build/shim/libcuslice.so CUSLICE_SOCKET=$rt/run/tenant.sock $python $*"
	fi
}
last() { tail -1; }

w=$(window "$seconds"); lc_alone=$(run_in lc "$here/lc.py" $w | last)
w=$(window "$seconds"); be_alone=$(run_in be "$here/../shares/matmul.py" $w 4096 | last)
w=$(window "$seconds")
run_in bare "$here/lc.py" $w >"$rt/lc-bare" & a=$!
run_in bare "$here/../shares/matmul.py" $w 4096 >"$rt/be-bare" & b=$!
wait $a $b
"$build/tools/cuslice" set /cuslice-lat/lc --priority high >/dev/null
w=$(window "$seconds")
run_in lc "$here/lc.py" $w >"$rt/lc-prio" & a=$!
run_in be "$here/../shares/matmul.py" $w 4096 >"$rt/be-prio" & b=$!
wait $a $b
"$python" - "$out" "$lc_alone" "$be_alone" "$(last <"$rt/lc-bare")" "$(last <"$rt/be-bare")" \
	"$(last <"$rt/lc-prio")" "$(last <"$rt/be-prio")" <<'PY'
import json, sys
out, lc0, be0, lcb, beb, lcp, bep = sys.argv[1], *map(json.loads, sys.argv[2:])
r = {"lc_alone": lc0, "be_alone_tflops": be0["tflops"],
     "bare": {"lc": lcb, "lc_p50_x": lcb["p50_ms"] / lc0["p50_ms"], "lc_p99_x": lcb["p99_ms"] / lc0["p99_ms"],
              "be_of_alone": beb["tflops"] / be0["tflops"]},
     "priority_high": {"lc": lcp, "lc_p50_x": lcp["p50_ms"] / lc0["p50_ms"], "lc_p99_x": lcp["p99_ms"] / lc0["p99_ms"],
                       "be_of_alone": bep["tflops"] / be0["tflops"]}}
json.dump(r, open(out + "/latency.json", "w"), indent=2)
print(f"LC alone p50 {lc0['p50_ms']:.2f} ms p99 {lc0['p99_ms']:.2f} ms; BE alone {be0['tflops']:.0f} TFLOP/s")
for k in ("bare", "priority_high"):
    v = r[k]
    print(f"{k}: LC p50 {v['lc']['p50_ms']:.2f} ms ({v['lc_p50_x']:.2f}x) p99 {v['lc']['p99_ms']:.2f} ms ({v['lc_p99_x']:.2f}x); BE {100*v['be_of_alone']:.0f}% of alone")
PY
