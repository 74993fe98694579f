#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions the shim adds to each cuLaunchKernel call, counted by callgrind
# against fakecuda (deterministic; no GPU needed). The loop runs twice, with
# N1 and N2 launches, bare and under the shim; the marginal cost per launch is
#   ((shim(N2) - shim(N1)) - (bare(N2) - bare(N1))) / (N2 - N1)
# so start-up costs and inlining do not blur it. Measured unpaced, and paced
# (under `cuslice run --limit 100%`, where every launch spends its cost).
# Target: <= 150 instructions each.
#
#   bench/launch/callgrind.sh [BUILD_DIR]
set -eu
build=$(cd "${1:-build}" && pwd)
n1=10000
n2=30000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LD_LIBRARY_PATH="$build/tests/fakecuda" FAKECUDA_KERNEL_US=0

# total N [PREFIX...]: instructions of the whole loop of N launches, run under
# PREFIX; the fewest of three runs, since a paced run's leases follow the
# kernel costs it learns from fakecuda's events, which are timed by the wall
# clock, which valgrind slows unevenly (more leases, a few more instructions)
total() {
	local n=$1 best= i
	shift
	for i in 1 2 3; do
		"$@" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
			"$build/bench/fake-launch-loop" "$n" >/dev/null 2>"$tmp/valgrind.log"
		local got
		got=$(awk '/^summary:/ { print $2 }' "$tmp/cg.out")
		if [ -z "$best" ] || [ "$got" -lt "$best" ]; then best=$got; fi
	done
	echo "$best"
}

bare=$(( $(total $n2 env) - $(total $n1 env) ))
plain=$(( $(total $n2 env LD_PRELOAD="$build/shim/libcuslice.so") - \
	  $(total $n1 env LD_PRELOAD="$build/shim/libcuslice.so") ))
paced=$(( $(total $n2 "$build/tools/cuslice" run --limit 100% --) - \
	  $(total $n1 "$build/tools/cuslice" run --limit 100% --) ))
per_plain=$(( (plain - bare) / (n2 - n1) ))
per_paced=$(( (paced - bare) / (n2 - n1) ))
echo "{\"launches\": $((n2 - n1)), \"instructions_per_launch\": $per_plain, \"paced_instructions_per_launch\": $per_paced, \"target\": 150}"
[ "$per_plain" -le 150 ] && [ "$per_paced" -le 150 ]
