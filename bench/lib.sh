# SPDX-License-Identifier: Apache-2.0
# Shared by the benchmarks that run tenants under cusliced on a GPU. Source it
# after setting `build` (the meson build) and `python`.

# bench_setup NAME GROUP...: exits 77 without a GPU or cgroup v2; starts
# cusliced in a temporary runtime directory (with $CUSLICED_ARGS, if set)
# and makes the cgroups <cgroup v2>/NAME/GROUP; sets cg, rt, daemon and
# parent, and cleans up at exit.
bench_setup() {
	parent=$1
	shift
	cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$cg" ] || { echo "no cgroup v2" >&2; exit 77; }
	nvidia-smi -L >/dev/null 2>&1 || { echo "no GPU" >&2; exit 77; }
	rt=$(mktemp -d "/tmp/$parent.XXXXXX")
	export CUSLICE_ADMIN_SOCKET=$rt/run/admin.sock
	"$build/tools/cusliced" --runtime-dir "$rt/run" --state "$rt/state.json" --no-bpf ${CUSLICED_ARGS:-} 2>"$rt/cusliced.log" &
	daemon=$!
	bench_groups="$*"
	trap 'kill $daemon 2>/dev/null; for g in $bench_groups; do rmdir "$cg/$parent/$g"; done; rmdir "$cg/$parent"' EXIT
	for g in "$@"; do mkdir -p "$cg/$parent/$g"; done
	for _ in $(seq 50); do [ -S "$rt/run/admin.sock" ] && break; sleep 0.1; done
}

# bench_window SECONDS: "START END" on CLOCK_MONOTONIC, starting once tenants
# started now have initialised CUDA, so that tenants are measured together.
bench_window() {
	"$python" -c "import time; s = time.monotonic() + 12; print(s, s + $1)"
}

# bench_in GROUP|bare ARGS...: runs `$python ARGS...` in that tenant's cgroup
# under the shim and the daemon (bare: neither), with $BENCH_ENV added.
bench_in() {
	local group=$1
	shift
	if [ "$group" = bare ]; then
		"$python" "$@"
	else
		sh -c "echo \$\$ > $cg/$parent/$group/cgroup.procs && exec env LD_PRELOAD=$build/shim/libcuslice.so CUSLICE_SOCKET=$rt/run/tenant.sock ${BENCH_ENV:-} $python $*"
	fi
}
