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
. "$here/../lib.sh"
bench_setup cuslice-lat lc be
window() { bench_window "$1"; }
run_in() { bench_in "$@"; }
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
