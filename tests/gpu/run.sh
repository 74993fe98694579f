#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The GPU test: the shim's counts against independent oracles on a real GPU,
# and VRAM quotas under PyTorch, JAX, CuPy and transformers, with the real
# memory use watched from outside through NVML.
#
#   tests/gpu/run.sh [BUILD_DIR]
#
# BUILD_DIR holds the meson build (libcuslice.so, the cuslice CLI, the demo,
# and the nvcc-built programs). Logs and results go to $OUT when it is set.
# Exits 77 (skipped) where there is no GPU.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
out=${OUT:-$(mktemp -d /tmp/cuslice-gpu.XXXXXX)}
mkdir -p "$out"
shim=$build/shim/libcuslice.so
python=${PYTHON:-python3}
results=$out/gpu-results.jsonl

if ! nvidia-smi -L >/dev/null 2>&1; then
	echo "tests/gpu: no NVIDIA GPU here: skipped"
	exit 77
fi
if [ ! -x "$build/tests/gpu/launches" ]; then
	echo "tests/gpu: $build/tests/gpu/launches was not built (no nvcc at build time): skipped"
	exit 77
fi
: >"$results"
failed=0

# Runs "$@" under the shim with stats in a fresh directory; echoes the directory.
under_shim() {
	local dir
	dir=$(mktemp -d "$out/stats.XXXXXX")
	LD_PRELOAD=$shim CUSLICE_STATS="$dir/stats.%p.json" "$@"
	echo "$dir" >"$out/last-stats-dir"
}

nvcc_check() {
	local name=$1 program=$2 flag=${3:-}
	under_shim "$program" 1000 >"$out/$name.json" 2>"$out/$name.err" ||
		{ echo "FAIL $name: exit $?: $(head -c 500 "$out/$name.err")"; failed=1; return; }
	"$python" "$here/compare.py" nvcc "$results" "$name" "$out/$name.json" \
		"$(cat "$out/last-stats-dir")" $flag || failed=1
}

nvcc_check nvcc-launches "$build/tests/gpu/launches"
nvcc_check nvcc-launches-per-thread "$build/tests/gpu/launches-ptds" --ptsz

export TORCHINDUCTOR_COMPILE_THREADS=1
if under_shim "$python" "$here/torch_counts.py" "$out/torch-cupti.json" >"$out/torch.log" 2>&1; then
	"$python" "$here/compare.py" torch "$results" "$out/torch-cupti.json" \
		"$(cat "$out/last-stats-dir")" || failed=1
else
	echo "FAIL torch: exit $?: $(tail -c 1500 "$out/torch.log")"
	failed=1
fi

export XLA_PYTHON_CLIENT_PREALLOCATE=false
for fw in cupy jax; do
	if under_shim "$python" "$here/frameworks.py" "$fw" >"$out/$fw.log" 2>&1; then
		"$python" "$here/compare.py" ran "$results" "$fw" "$(cat "$out/last-stats-dir")" || failed=1
	else
		echo "FAIL $fw: exit $?: $(tail -c 1500 "$out/$fw.log")"
		failed=1
	fi
done

# JAX preallocates only when left to its default
env -u XLA_PYTHON_CLIENT_PREALLOCATE "$python" "$here/vram_check.py" "$build/tools/cuslice" \
	"$results" || failed=1

# A profile of PyTorch (cuBLAS and Triton kernels, named through the real
# driver), then the same program paced by it: it must still count right.
if "$build/tools/cuslice" profile -o "$out/torch.profile" -- "$python" "$here/torch_counts.py" \
	"$out/torch-cupti-profiling.json" >"$out/profile.log" 2>&1 &&
	[ "$(sed -n '2,$p' "$out/torch.profile" | wc -l)" -gt 5 ] &&
	"$build/tools/cuslice" run --limit 50% --profile "$out/torch.profile" --stats-dir "$out/profiled" -- \
		"$python" "$here/torch_counts.py" "$out/torch-cupti-profiled.json" >>"$out/profile.log" 2>&1 &&
	"$python" "$here/compare.py" torch "$results" "$out/torch-cupti-profiled.json" "$out/profiled"; then
	echo "PASS profile: $(sed -n '2,$p' "$out/torch.profile" | wc -l) kernels profiled; paced by the profile, counts match"
else
	echo "FAIL profile: $(tail -c 1500 "$out/profile.log")"
	failed=1
fi

# Enforce mode on the real driver: in a tenant cgroup with --enforce on, a
# PyTorch process without the shim cannot reach the GPU (cleanly: CUDA is not
# available to it), while one under the shim runs. Needs root, cgroup v2 and a
# cusliced built with the kernel side.
enforce_check() {
	local cg rt group pins daemon bare shimmed
	cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	if [ "$(id -u)" -ne 0 ] || [ -z "$cg" ]; then
		echo "SKIP enforce: needs root and cgroup v2"
		return
	fi
	rt=$(mktemp -d "$out/enforce.XXXXXX")
	group=cuslice-gpu-enforce-$$
	pins=/sys/fs/bpf/cuslice-gpu-test-$$
	mkdir -p "$cg/$group/t"
	"$build/tools/cusliced" --runtime-dir "$rt/run" --state "$rt/state.json" --bpf-dir "$pins" \
		2>"$rt/cusliced.log" &
	daemon=$!
	for _ in $(seq 100); do [ -S "$rt/run/admin.sock" ] && break; sleep 0.05; done
	export CUSLICE_ADMIN_SOCKET=$rt/run/admin.sock
	in_tenant() { sh -c "echo \$\$ > $cg/$group/t/cgroup.procs && exec \"\$@\"" sh "$@"; }
	if ! "$build/tools/cuslice" get node | grep -q "kernel side *active"; then
		echo "FAIL enforce: the kernel side is off: $(grep 'kernel side' "$rt/cusliced.log")"
		failed=1
	else
		"$build/tools/cuslice" set "/$group/t" --enforce on --audit on >/dev/null
		bare=$(in_tenant "$python" -c 'import torch; print(torch.cuda.is_available())' 2>"$rt/bare.err")
		shimmed=$(in_tenant env LD_PRELOAD="$shim" CUSLICE_SOCKET="$rt/run/tenant.sock" "$python" -c \
			'import torch; x = torch.ones(1024, 1024, device="cuda"); print(torch.cuda.is_available(), float((x @ x).sum()))' \
			2>"$rt/shim.err")
		probes=$("$build/tools/cuslice" get node | awk '/audit probes/ { print $3 }')
		if [ "$bare" = False ] && [ "$shimmed" = "True 1073741824.0" ] &&
			grep -q "did not register through the shim" "$rt/cusliced.log" &&
			[ "$probes" -gt 8 ] && ! grep -q "around the shim" "$rt/cusliced.log"; then
			echo "PASS enforce: unshimmed torch.cuda.is_available() = $bare; shimmed ran a matmul; $(grep -c 'denied an open' "$rt/cusliced.log") denied opens logged; audit: $probes uprobes on libcuda.so.1, the shimmed process not flagged"
		else
			echo "FAIL enforce (audit probes: $probes): unshimmed \"$bare\" ($(tail -c 300 "$rt/bare.err")); shimmed \"$shimmed\" ($(tail -c 300 "$rt/shim.err")); log: $(tail -c 600 "$rt/cusliced.log")"
			failed=1
		fi
		# a shimmed process that also calls the driver's own cuLaunchKernel
		if [ -x "$build/bench/ab-launch" ]; then
			in_tenant env LD_PRELOAD="$shim" CUSLICE_SOCKET="$rt/run/tenant.sock" \
				"$build/bench/ab-launch" 1000 256 >/dev/null
			sleep 0.5
			if grep -q "reaches the CUDA driver around the shim" "$rt/cusliced.log"; then
				echo "PASS audit: $(grep -o 'the kernel saw.*' "$rt/cusliced.log")"
			else
				echo "FAIL audit: ab-launch's direct calls were not flagged: $(tail -c 400 "$rt/cusliced.log")"
				failed=1
			fi
		fi
	fi
	unset CUSLICE_ADMIN_SOCKET
	kill "$daemon"
	wait "$daemon" 2>/dev/null
	rmdir "$cg/$group/t" "$cg/$group"
	rm -rf "$pins"
}
enforce_check

# SM partitions: a 4-group (32-SM) partition holds the runtime's context on
# every thread (the driver reports 32 SMs; kernels ran on 32 distinct SMs),
# 16 threads sharing it get every result right, the legacy stream keeps its
# implicit synchronisation with blocking streams as it does on the whole GPU
# (where the non-blocking control shows a missing order is caught), and
# PyTorch, torch.compile,
# a CUDA graph and a backward pass give the same results as on the whole GPU.
partition_check() {
	local w r t o ow same
	if [ ! -x "$build/tests/gpu/smcheck" ]; then
		echo "FAIL partition: $build/tests/gpu/smcheck was not built"
		failed=1
		return
	fi
	w=$("$python" -c "import time; s = time.monotonic() + 1; print(s, s + 0.5)")
	r=$("$build/tools/cuslice" run --sm-groups 0-3 -- "$build/tests/gpu/smcheck" $w 2>&1 | tail -1)
	t=$("$build/tools/cuslice" run --sm-groups 0-3 -- "$build/tests/gpu/smcheck" threads 16 2>&1 | tail -1)
	ow=$("$build/tests/gpu/smcheck" order 2>&1 | tail -1)
	o=$("$build/tools/cuslice" run --sm-groups 0-3 -- "$build/tests/gpu/smcheck" order 2>&1 | tail -1)
	"$python" "$here/partition_torch.py" "$out/whole.pt" >"$out/partition-whole.log" 2>&1
	"$build/tools/cuslice" run --sm-groups 0-3 -- "$python" "$here/partition_torch.py" \
		"$out/part.pt" >"$out/partition-part.log" 2>&1
	same=$("$python" -c "
import torch
a, b = torch.load('$out/whole.pt'), torch.load('$out/part.pt')
print(all(torch.equal(a[k], b[k]) for k in a) and sorted(a) == sorted(b))" 2>&1 | tail -1)
	case "$r $t $o $same" in
	*'"context_sms": 32,'*'"sms_used": 32,'*'"wrong": 0, "error": 0'*'"blocking_legacy": 0, "legacy_blocking": 0, "copy": 0,'*True)
		echo "PASS partition: 32 SMs held ($r); 16 threads: $t; legacy-stream order: $o (whole GPU: $ow); torch results equal" ;;
	*)
		echo "FAIL partition: smcheck: $r; threads: $t; legacy-stream order: $o (whole GPU: $ow); torch equal: $same"
		failed=1 ;;
	esac
}
partition_check

if "$build/tools/cuslice" run --summary -- "$build/examples/cuslice-demo" >"$out/demo.log" 2>&1 &&
	grep -q "result correct" "$out/demo.log"; then
	echo "PASS demo: $(head -1 "$out/demo.log")"
else
	echo "FAIL demo: $(cat "$out/demo.log")"
	failed=1
fi
sed -n '2,$p' "$out/demo.log"
exit $failed
