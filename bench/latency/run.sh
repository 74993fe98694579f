#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Latency protection on a real GPU: a latency-critical MLP tenant (open loop,
# lc.py) beside a saturating best-effort bf16 matmul tenant, once with short
# kernels (4096³, about 0.2 ms) and once with long ones (8192³, about 1.7 ms).
# For each: both alone, bare sharing, cusliced with the MLP at --priority high,
# and MPS with the matmul at CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=50, all in one
# run. Reports the MLP's p50/p99 against alone and the matmul's throughput
# against alone.
#
#   bench/latency/run.sh BUILD_DIR [SECONDS] [SIZES]
#
# SIZES defaults to "4096 8192". Writes latency.json and latency.md to $OUT
# (or bench/results/).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
seconds=${2:-4}
sizes=${3:-4096 8192}
out=${OUT:-$here/../results}
python=${PYTHON:-python3}
mkdir -p "$out"
. "$here/../lib.sh"
bench_setup cuslice-lat lc be
window() { bench_window "$1"; }
last() { tail -1; }
mps_control=$(command -v nvidia-cuda-mps-control || echo /usr/local/nvidia/bin/nvidia-cuda-mps-control)

# together CONFIG N: the MLP and an N³ matmul loop at once, in CONFIG (bare,
# prio or mps); their last lines go to $rt/lc-CONFIG-N and $rt/be-CONFIG-N.
together() {
	local config=$1 n=$2 w a b lc=bare be=bare envs=
	w=$(window "$seconds")
	if [ "$config" = prio ]; then lc=lc; be=be; fi
	if [ "$config" = mps ]; then
		export CUDA_MPS_PIPE_DIRECTORY=$rt/mps CUDA_MPS_LOG_DIRECTORY=$rt/mps-log
		mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
		"$mps_control" -d
	fi
	bench_in "$lc" "$here/lc.py" $w | last >"$rt/lc-$config-$n" & a=$!
	if [ "$config" = mps ]; then
		CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=50 bench_in bare "$here/../shares/matmul.py" $w "$n" | last >"$rt/be-$config-$n" & b=$!
	else
		bench_in "$be" "$here/../shares/matmul.py" $w "$n" | last >"$rt/be-$config-$n" & b=$!
	fi
	wait $a $b
	if [ "$config" = mps ]; then
		echo quit | "$mps_control"
		sleep 1
		unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
	fi
}

"$build/tools/cuslice" set /cuslice-lat/lc --priority high >/dev/null
for n in $sizes; do
	w=$(window "$seconds"); bench_in lc "$here/lc.py" $w | last >"$rt/lc-alone-$n"
	w=$(window "$seconds"); bench_in be "$here/../shares/matmul.py" $w "$n" | last >"$rt/be-alone-$n"
	for config in bare prio mps; do
		together "$config" "$n"
		echo "$n $config: $(cat "$rt/lc-$config-$n") $(cat "$rt/be-$config-$n")"
	done
done

"$python" - "$out" "$rt" $sizes <<'PY'
import json, sys
out, rt, sizes = sys.argv[1], sys.argv[2], sys.argv[3:]
read = lambda name: json.load(open(f"{rt}/{name}"))
r, md = {}, ["| best effort | config | LC p50 | LC p99 | best effort of alone |", "|---|---|---|---|---|"]
names = {"bare": "bare sharing", "prio": "cusliced, LC --priority high", "mps": "MPS, best effort at 50 %"}
for n in sizes:
    lc0, be0 = read(f"lc-alone-{n}"), read(f"be-alone-{n}")
    r[n] = {"lc_alone": lc0, "be_alone_tflops": be0["tflops"]}
    md.append(f"| {n}³ | alone | {lc0['p50_ms']:.2f} ms | {lc0['p99_ms']:.2f} ms | {be0['tflops']:.0f} TFLOP/s |")
    for c in ("bare", "prio", "mps"):
        lc, be = read(f"lc-{c}-{n}"), read(f"be-{c}-{n}")
        v = {"lc": lc, "lc_p50_x": lc["p50_ms"] / lc0["p50_ms"], "lc_p99_x": lc["p99_ms"] / lc0["p99_ms"],
             "be_of_alone": be["tflops"] / be0["tflops"]}
        r[n][c] = v
        md.append(f"| {n}³ | {names[c]} | {lc['p50_ms']:.2f} ms ({v['lc_p50_x']:.2f}x) | "
                  f"{lc['p99_ms']:.2f} ms ({v['lc_p99_x']:.2f}x) | {100 * v['be_of_alone']:.0f} % |")
json.dump(r, open(out + "/latency.json", "w"), indent=2)
text = "Targets with 4096³: LC p50 ≤ 1.3x, p99 ≤ 2x, best effort ≥ 60 %.\n\n" + "\n".join(md) + "\n"
open(out + "/latency.md", "w").write(text)
print(text)
PY
