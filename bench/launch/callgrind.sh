#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions the shim adds to each cuLaunchKernel call, counted by
# callgrind against fakecuda (deterministic; no GPU needed):
#   inclusive(libcuslice's cuLaunchKernel) - inclusive(fakecuda's cuLaunchKernel)
# per call. Target: <= 150.
#
#   bench/launch/callgrind.sh [BUILD_DIR]
set -eu
build=$(cd "${1:-build}" && pwd)
calls=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

env LD_PRELOAD="$build/shim/libcuslice.so" LD_LIBRARY_PATH="$build/tests/fakecuda" \
	FAKECUDA_KERNEL_US=0 \
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
	"$build/bench/fake-launch-loop" "$calls" >/dev/null 2>"$tmp/valgrind.log"
callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg.out" >"$tmp/annotate.txt"
ir_of() { grep -E "cuLaunchKernel \[.*$1" "$tmp/annotate.txt" | head -1 | awk '{gsub(",", "", $1); print $1}'; }
shim_ir=$(ir_of libcuslice.so)
driver_ir=$(ir_of libcuda.so)
if [ -z "$shim_ir" ] || [ -z "$driver_ir" ]; then
	echo "callgrind: cuLaunchKernel not found in the profile" >&2
	cat "$tmp/annotate.txt" >&2
	exit 1
fi
per_call=$(( (shim_ir - driver_ir) / calls ))
echo "{\"calls\": $calls, \"shim_inclusive_ir\": $shim_ir, \"driver_inclusive_ir\": $driver_ir, \"instructions_per_launch\": $per_call, \"target\": 150}"
[ "$per_call" -le 150 ]
