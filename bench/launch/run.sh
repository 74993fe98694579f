#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Launch overhead on a GPU, two ways:
#  1. ab-launch: inside one process, batches of empty cuLaunchKernel calls
#     alternate between the shim's wrapper and the driver's own entry point
#     (A B B A ...): the headline figure, free of process-to-process noise;
#  2. empty-launch: the CUDA runtime's <<<>>> path, whole processes bare vs.
#     under the shim, interleaved in one run; noisier (each process lands on
#     its own clocks), reported beside it.
#
#   bench/launch/run.sh [BUILD_DIR] [ROUNDS]
#
# Writes launch.json and launch.md to $OUT (or bench/results/) and prints the
# table. Target: median added ns per launch <= 40.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
rounds=${2:-21}
out=${OUT:-$here/../results}
mkdir -p "$out"
prog=$build/bench/empty-launch
shim=$build/shim/libcuslice.so
python=${PYTHON:-python3}

if ! nvidia-smi -L >/dev/null 2>&1; then
	echo "bench/launch: no NVIDIA GPU here" >&2
	exit 77
fi
LD_PRELOAD=$shim "$build/bench/ab-launch" 3000 256 >"$out/launch-ab.json"
# the same with a quota in force, and the cost of charging an allocation
"$build/tools/cuslice" run --vram 10GiB -- "$build/bench/ab-launch" 3000 256 >"$out/launch-ab-quota.json"
"$build/tools/cuslice" run --vram 10GiB -- "$build/bench/ab-launch" 1000 64 alloc >"$out/alloc-ab-quota.json"
cat "$out/launch-ab-quota.json" "$out/alloc-ab-quota.json"
samples=$out/launch-samples.txt
: >"$samples"
for i in $(seq "$rounds"); do
	if [ $((i % 2)) -eq 1 ]; then order="bare shim"; else order="shim bare"; fi
	for mode in $order; do
		if [ "$mode" = shim ]; then
			ns=$(LD_PRELOAD=$shim "$prog")
		else
			ns=$("$prog")
		fi
		echo "$i $mode $ns" >>"$samples"
	done
done
"$python" "$here/summarize.py" "$samples" "$out/launch-ab.json" "$out" "$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)"
