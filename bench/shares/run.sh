#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# GPU-time shares on a real GPU, measured from the GPU side (each tenant's
# matmul throughput against its throughput alone in the same round):
#   - two saturating bf16 8192³ matmul tenants in their own cgroups under
#     cusliced, weights 3:7;
#   - the same pair without cuslice (bare), for contrast;
#   - one tenant alone at --weight 3 (unpaced: it should lose nothing);
#   - one tenant alone at --limit 30%, with learned costs and with a profile
#     recorded by `cuslice profile` at the start.
# The configurations alternate in ROUNDS rounds (A B C … A B C …); the figures
# are medians over the rounds. Also: launch overhead in a daemon tenant,
# unpaced and paced, and cusliced's CPU time while that tenant launches as
# fast as it can.
#
#   bench/shares/run.sh BUILD_DIR [SECONDS] [ROUNDS]
#
# Needs root, cgroup v2 and a GPU. Writes shares.json and shares.md to $OUT
# (or bench/results/).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
seconds=${2:-8}
rounds=${3:-2}
out=${OUT:-$here/../results}
python=${PYTHON:-python3}
mkdir -p "$out"
. "$here/../lib.sh"
bench_setup cuslice-bench a b
window() { bench_window "$1"; }
cuslice() { "$build/tools/cuslice" "$@" >/dev/null; }
tflops() { "$python" -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["tflops"])'; }

# run TENANT(a|b|bare) START END: a matmul loop in that cgroup, under the shim (not for bare)
run() { bench_in "$1" "$here/matmul.py" "$2" "$3"; }
# pair GROUP1 GROUP2: both at once over one window; prints "TFLOPS1 TFLOPS2"
pair() {
	local w
	w=$(window "$seconds")
	run "$1" $w >"$rt/p1.json" & local p1=$!
	run "$2" $w >"$rt/p2.json" & local p2=$!
	wait $p1 $p2
	echo "$(tflops <"$rt/p1.json") $(tflops <"$rt/p2.json")"
}

# the daemon's CPU time so far, in seconds
daemon_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$daemon/stat"; }

# Launch overhead in a tenant of the daemon: unpaced (alone), then paced (a
# 100% limit); the daemon's CPU meanwhile, against the launches it oversaw.
ab() { sh -c "echo \$\$ > $cg/cuslice-bench/a/cgroup.procs && exec env LD_PRELOAD=$build/shim/libcuslice.so CUSLICE_SOCKET=$rt/run/tenant.sock $build/bench/ab-launch 2000 256"; }
cpu0=$(daemon_cpu); t0=$(date +%s.%N)
ab >"$out/launch-daemon-unpaced.json"
cuslice set /cuslice-bench/a --limit 100%
ab >"$out/launch-daemon-paced.json"
"$build/tools/cuslice" describe /cuslice-bench/a -o json >"$out/describe-a-paced.json" # throttled_ns
cuslice set /cuslice-bench/a --limit none
cpu1=$(daemon_cpu); t1=$(date +%s.%N)
cat "$out/launch-daemon-unpaced.json" "$out/launch-daemon-paced.json"

# A profile of the matmul alone, outside any tenant.
w=$(window 4)
"$build/tools/cuslice" profile -o "$rt/matmul.profile" -- "$python" "$here/matmul.py" $w >/dev/null
cp "$rt/matmul.profile" "$out/matmul.profile"

samples=$out/shares-samples.txt
: >"$samples"
for i in $(seq "$rounds"); do
	cuslice set /cuslice-bench/a --weight 3 --limit none
	cuslice set /cuslice-bench/b --weight 7
	echo "$i alone_a $(run a $(window "$seconds") | tflops)" >>"$samples"
	echo "$i alone_b $(run b $(window "$seconds") | tflops)" >>"$samples"
	# mid-window, what the daemon says of b (whether the pair takes turns)
	(sleep $((12 + seconds / 2)) && "$build/tools/cuslice" describe /cuslice-bench/b -o json \
		>"$out/describe-b-weights-$i.json") &
	describe=$!
	echo "$i weights $(pair a b)" >>"$samples"
	wait $describe
	echo "$i bare_alone $(run bare $(window "$seconds") | tflops)" >>"$samples"
	echo "$i bare_pair $(pair bare bare)" >>"$samples"
	cuslice set /cuslice-bench/a --limit 30%
	echo "$i limit_learned $(run a $(window "$seconds") | tflops)" >>"$samples"
	echo "$i limit_profiled $(BENCH_ENV="CUSLICE_PROFILE=$rt/matmul.profile" run a $(window "$seconds") | tflops)" >>"$samples"
	cat "$samples" | grep "^$i "
done
cuslice get tenants
"$build/tools/cuslice" get tenants >"$out/tenants.txt"

"$python" "$here/summarize.py" "$samples" "$out" "$cpu0" "$cpu1" "$t0" "$t1" \
	"$out/launch-daemon-unpaced.json" "$out/launch-daemon-paced.json" "$out/describe-a-paced.json"
