#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# GPU-time shares on a real GPU: two saturating bf16 matmul tenants in their
# own cgroups under cusliced, weights 3:7; one alone with --limit 30%; bare
# sharing without cuslice for contrast. Shares are measured from the GPU side:
# each tenant's matmul throughput against its throughput alone.
#
#   bench/shares/run.sh BUILD_DIR [SECONDS]
#
# Needs root, cgroup v2 and a GPU. Writes shares.json to $OUT (or bench/results/).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
seconds=${2:-10}
out=${OUT:-$here/../results}
python=${PYTHON:-python3}
mkdir -p "$out"
. "$here/../lib.sh"
bench_setup cuslice-bench a b
window() { bench_window "$1"; }

# run TENANT(a|b|bare) START END: a matmul loop in that cgroup, under the shim (not for bare)
run() {
	BENCH_ENV="CUSLICE_STATS=$out/stats-$1-%p.json" bench_in "$1" "$here/matmul.py" "$2" "$3"
}

# the daemon's CPU time so far, in seconds
daemon_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$daemon/stat"; }

tflops() { "$python" -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["tflops"])'; }

cpu_start=$(daemon_cpu); wall_start=$(date +%s.%N)
# launch overhead in a tenant of the daemon: unpaced (alone), then paced (a 100% limit)
ab() { sh -c "echo \$\$ > $cg/cuslice-bench/a/cgroup.procs && exec env LD_PRELOAD=$build/shim/libcuslice.so CUSLICE_SOCKET=$rt/run/tenant.sock $build/bench/ab-launch 2000 256"; }
ab >"$out/launch-daemon-unpaced.json"
"$build/tools/cuslice" set /cuslice-bench/a --limit 100% >/dev/null
ab >"$out/launch-daemon-paced.json"
"$build/tools/cuslice" set /cuslice-bench/a --limit none >/dev/null
cat "$out/launch-daemon-unpaced.json" "$out/launch-daemon-paced.json"
"$build/tools/cuslice" set /cuslice-bench/a --weight 3 >/dev/null
"$build/tools/cuslice" set /cuslice-bench/b --weight 7 >/dev/null
alone_a=$(run a $(window "$seconds") | tflops)
alone_b=$(run b $(window "$seconds") | tflops)
w=$(window "$seconds")
run a $w >"$rt/a.json" & pa=$!
run b $w >"$rt/b.json" & pb=$!
wait $pa $pb
both_a=$(tflops <"$rt/a.json"); both_b=$(tflops <"$rt/b.json")
"$build/tools/cuslice" get tenants >"$out/tenants.txt"
bare_alone=$(run bare $(window "$seconds") | tflops)
w=$(window "$seconds")
run bare $w >"$rt/x.json" & px=$!
run bare $w >"$rt/y.json" & py=$!
wait $px $py
bare_x=$(tflops <"$rt/x.json"); bare_y=$(tflops <"$rt/y.json")
"$build/tools/cuslice" set /cuslice-bench/a --limit 30% >/dev/null
limited=$(run a $(window "$seconds") | tflops)
cpu=$(daemon_cpu); wall=$(date +%s.%N)
echo "cusliced CPU: $(awk -v c="$cpu" -v c0="$cpu_start" -v w="$wall" -v w0="$wall_start" 'BEGIN { printf "%.3f s over %.0f s = %.2f%% of one core", c - c0, w - w0, 100 * (c - c0) / (w - w0) }')"

"$python" - "$out" <<PY
import json, sys
r = {
  "alone_tflops": {"a": $alone_a, "b": $alone_b, "bare": $bare_alone},
  "weights_3_7": {"a_tflops": $both_a, "b_tflops": $both_b,
                  "a_share": $both_a / $alone_a, "b_share": $both_b / $alone_b},
  "bare_pair": {"x_share": $bare_x / $bare_alone, "y_share": $bare_y / $bare_alone},
  "limit_30pct_alone": {"tflops": $limited, "of_alone": $limited / $alone_a},
}
json.dump(r, open(sys.argv[1] + "/shares.json", "w"), indent=2)
w = r["weights_3_7"]
print(f"alone: a {$alone_a:.0f}, b {$alone_b:.0f}, bare {$bare_alone:.0f} TFLOP/s")
print(f"weights 3:7: a {100*w['a_share']:.1f}% b {100*w['b_share']:.1f}% of alone (sum {100*(w['a_share']+w['b_share']):.1f}%)")
print(f"bare pair: {100*r['bare_pair']['x_share']:.1f}% / {100*r['bare_pair']['y_share']:.1f}%")
print(f"--limit 30% alone: {100*r['limit_30pct_alone']['of_alone']:.1f}% of alone")
PY
