#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The kernel side on a real kernel, through cusliced and the cuslice CLI:
#   - device access control: a tenant given GPU 0 opens /dev/nvidia0 (here a
#     mknod'ed 195:0, so the open reaches the absent driver: ENXIO) and
#     nvidiactl, and gets EPERM for GPU 1; outside the tenant nothing changes;
#   - enforce mode: a process of the tenant without the shim gets EPERM, one
#     under the shim (registered at cuInit) opens its GPU;
#   - exit reports: a registered process killed with SIGKILL is reported by
#     the ring buffer, and its VRAM is back, within 50 ms (printed);
#   - a daemon killed and restarted adopts the pinned programs: a loop of
#     opens throughout never gets GPU 1;
#   - audit: uprobes on fakecuda's libcuda.so.1 count an audited tenant's
#     launches; a process that never registered is reported at its first
#     call, a shimmed one that calls the driver's own entry points too
#     (bench/ab-launch) is reported, a plain shimmed one is not;
#   - --deny-modeset: /dev/nvidia-modeset (195:254) refused, nvidiactl not;
#   - a GPU's index is not its minor: with NVML saying GPU 0 is /dev/nvidia1,
#     the tenant given GPU 0 opens nvidia1 and not nvidia0;
#   - bad requests change nothing.
#
#   tests/bpf/run.sh BUILD_DIR
set -u
build=$(cd "${1:-build}" && pwd)
skip() { echo "tests/bpf: skipped: $*"; exit 77; }
fail() { echo "FAIL: $*"; failed=1; }
failed=0

[ "$(id -u)" -eq 0 ] || skip "needs root"
cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg" ] || skip "no cgroup v2 hierarchy"
[ -r /sys/kernel/btf/vmlinux ] || skip "no BTF"

tmp=$(mktemp -d /tmp/cuslice-bpf.XXXXXX)
group=cuslice-bpf-$$
pins=/sys/fs/bpf/cuslice-test-$$
# a private copy of fakecuda: the audit's uprobes attach to the library's
# inode, and must not reach other tests' processes
mkdir -p "$tmp/fakecuda"
cp -L "$build/tests/fakecuda/libcuda.so.1" "$build/tests/fakecuda/libnvidia-ml.so.1" "$tmp/fakecuda/"
export LD_LIBRARY_PATH=$tmp/fakecuda FAKECUDA_DEVICES=2
export FAKECUDA_SHARED_GPU=$tmp/gpu CUSLICE_ADMIN_SOCKET=$tmp/run/admin.sock
cuslice() { "$build/tools/cuslice" "$@"; }
daemon=
start_daemon() {
	rm -f "$tmp/run/admin.sock"
	"$build/tools/cusliced" --runtime-dir "$tmp/run" --state "$tmp/state.json" \
		--bpf-dir "$pins" ${DAEMON_ARGS:-} 2>>"$tmp/cusliced.log" &
	daemon=$!
	for _ in $(seq 100); do [ -S "$tmp/run/admin.sock" ] && return; sleep 0.02; done
	echo "cusliced did not start:"; cat "$tmp/cusliced.log"; exit 1
}
cleanup() {
	[ -n "$daemon" ] && kill -9 "$daemon" 2>/dev/null
	for p in $(cat "$cg/$group/t/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done
	sleep 0.1
	rmdir "$cg/$group/t" "$cg/$group" 2>/dev/null
	rm -rf "$pins" "$tmp"
}
trap cleanup EXIT
mkdir -p "$cg/$group/t" || skip "cannot make cgroups under $cg"
mknod "$tmp/nvidia0" c 195 0 && mknod "$tmp/nvidia1" c 195 1 && mknod "$tmp/nvidiactl" c 195 255 ||
	skip "cannot mknod"
start_daemon
if ! cuslice get node | grep -q "kernel side *active"; then
	grep "kernel side" "$tmp/cusliced.log"
	grep -q "built without BPF" "$tmp/cusliced.log" && skip "cusliced was built without BPF"
	fail "the kernel side did not load: $(grep 'kernel side' "$tmp/cusliced.log")"
	exit 1
fi

# in_tenant CMD...: runs CMD inside the tenant's cgroup
in_tenant() { sh -c "echo \$\$ > $cg/$group/t/cgroup.procs && exec \"\$@\"" sh "$@"; }
probe() { "$build/tests/bpf/open-probe" "$@"; }
expect() { # expect WHAT OUTPUT WANTED
	if [ "$2" = "$3" ]; then echo "PASS $1"; else fail "$1: got \"$2\", want \"$3\""; fi
}

cuslice set "/$group/t" --gpus 0 >/dev/null || fail "cuslice set --gpus 0"
expect "tenant opens its GPU, nvidiactl; not GPU 1" \
	"$(in_tenant "$build/tests/bpf/open-probe" "$tmp/nvidia0" "$tmp/nvidiactl" "$tmp/nvidia1" | awk '{ print $2 }' | xargs)" \
	"ENXIO ENXIO EPERM"
expect "outside the tenant nothing changes" "$(probe "$tmp/nvidia1" | awk '{ print $2 }')" "ENXIO"
grep -q "denied an open of device 195:1 to pid [0-9]* (open-probe) of tenant /$group/t: not a GPU" \
	"$tmp/cusliced.log" && echo "PASS the daemon logs the denial" || fail "no denial logged"

cuslice set "/$group/t" --gpus 7 >/dev/null 2>"$tmp/err"; rc=$?
expect "bad --gpus refused" "$rc $(grep -c 'gpus "7": use all, or GPU indexes from 0 to 1' "$tmp/err")" "1 1"
cuslice set "/$group/t" --enforce maybe >/dev/null 2>&1
expect "bad requests change nothing" \
	"$(in_tenant "$build/tests/bpf/open-probe" "$tmp/nvidia0" "$tmp/nvidia1" | awk '{ print $2 }' | xargs)" \
	"ENXIO EPERM"

cuslice set "/$group/t" --enforce on >/dev/null || fail "cuslice set --enforce on"
expect "enforce: without the shim, EPERM" \
	"$(in_tenant "$build/tests/bpf/open-probe" "$tmp/nvidia0" | awk '{ print $2 }')" "EPERM"
expect "enforce: under the shim, its GPU opens" \
	"$(in_tenant env LD_PRELOAD="$build/shim/libcuslice.so" CUSLICE_SOCKET="$tmp/run/tenant.sock" \
		"$build/tests/bpf/open-probe" --cuda "$tmp/nvidia0" "$tmp/nvidia1" | awk '{ print $2 }' | xargs)" \
	"ENXIO EPERM"
grep -q "enforce mode, and the process did not register" "$tmp/cusliced.log" &&
	echo "PASS the daemon logs the unregistered process" || fail "no enforce denial logged"
cuslice set "/$group/t" --enforce off >/dev/null

# exit reports: a registered holder of 64 MiB, killed
exits_before=$(cuslice get node -o json | awk -F: '/exits_reported/ { gsub(/[^0-9]/, "", $2); print $2 + 0 }')
(exec sh -c "echo \$\$ > $cg/$group/t/cgroup.procs && exec \"\$@\"" sh env \
	LD_PRELOAD="$build/shim/libcuslice.so" CUSLICE_SOCKET="$tmp/run/tenant.sock" \
	"$build/tests/integration/vram-workload" hold 67108864) >"$tmp/holder" &
holder=$!
for _ in $(seq 200); do grep -q holding "$tmp/holder" && break; sleep 0.01; done
used() { cuslice describe "/$group/t" -o json | awk -F: '/"vram_used"/ { gsub(/[^0-9]/, "", $2); s += $2 } END { print s + 0 }'; }
[ "$(used)" -ge 67108864 ] || fail "the holder's VRAM is not accounted: $(used)"
t0=$(date +%s%N)
kill -9 $holder
while [ "$(used)" -ne 0 ] && [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 2000 ]; do :; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
exits_after=$(cuslice get node -o json | awk -F: '/exits_reported/ { gsub(/[^0-9]/, "", $2); print $2 + 0 }')
echo "killed holder: VRAM back after $ms ms; exits reported by the kernel $exits_before -> $exits_after"
[ "$ms" -lt 50 ] && echo "PASS reclaim within 50 ms" || fail "reclaim took $ms ms"
[ "$exits_after" -gt "$exits_before" ] && echo "PASS the ring buffer reported the exit" ||
	fail "no exit reported"

# audit
cuslice set "/$group/t" --audit maybe >/dev/null 2>"$tmp/err"
expect "bad --audit refused" "$(grep -c 'audit "maybe": use on' "$tmp/err")" "1"
cuslice set "/$group/t" --audit on >/dev/null || fail "cuslice set --audit on"
probes=$(cuslice get node -o json | awk -F: '/audit_probes/ { gsub(/[^0-9]/, "", $2); print $2 + 0 }')
[ "$probes" -gt 8 ] && echo "PASS $probes uprobes on the driver's entry points" || fail "audit probes: $probes"
in_tenant "$build/tests/integration/driver-workload" linked --launches 5 >/dev/null
sleep 0.2
grep -q "pid [0-9]* (driver-workload) of tenant /$group/t called the CUDA driver without registering" \
	"$tmp/cusliced.log" && echo "PASS an unregistered process is reported at its first call" ||
	fail "the unregistered driver-workload was not reported"
shimmed() { in_tenant env LD_PRELOAD="$build/shim/libcuslice.so" CUSLICE_SOCKET="$tmp/run/tenant.sock" "$@"; }
shimmed "$build/tests/integration/share-workload" 0.6 1000 >/dev/null
expect "a shimmed process is not reported" "$(grep -c 'around the shim' "$tmp/cusliced.log")" "0"
if [ -x "$build/bench/ab-launch" ]; then
	shimmed "$build/bench/ab-launch" 1000 256 >/dev/null
	sleep 0.3
	line=$(grep 'around the shim' "$tmp/cusliced.log")
	echo "  $line"
	expect "a shimmed process calling the driver's own entry points is reported" \
		"$(echo "$line" | grep -c 'reaches the CUDA driver around the shim (audit): the kernel saw')" "1"
fi
cuslice set "/$group/t" --audit off >/dev/null

# restart: opens of GPU 1 in a loop while the daemon is killed and restarted
in_tenant sh -c "end=\$((\$(date +%s) + 2)); while [ \$(date +%s) -lt \$end ]; do $build/tests/bpf/open-probe $tmp/nvidia1; done" >"$tmp/loop" &
loop=$!
sleep 0.3
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
sleep 0.5
start_daemon
wait $loop
expect "opens during the restart: none succeeded" "$(awk '$2 != "EPERM"' "$tmp/loop" | wc -l)" "0"
echo "  ($(wc -l <"$tmp/loop") opens, all EPERM)"
grep -q "kernel side active: adopted from $pins" "$tmp/cusliced.log" &&
	echo "PASS the restarted daemon adopted the pinned programs" || fail "not adopted"
expect "after the restart the rule holds" \
	"$(in_tenant "$build/tests/bpf/open-probe" "$tmp/nvidia0" "$tmp/nvidia1" | awk '{ print $2 }' | xargs)" \
	"ENXIO EPERM"

# minors from NVML: a daemon that learns GPU 0 is /dev/nvidia1 guards that node;
# with --deny-modeset, nvidia-modeset is refused, nvidiactl still allowed
mknod "$tmp/nvidia-modeset" c 195 254
expect "nvidia-modeset allowed by default" "$(in_tenant "$build/tests/bpf/open-probe" "$tmp/nvidia-modeset" | awk '{ print $2 }')" "ENXIO"
kill "$daemon"; wait "$daemon" 2>/dev/null
FAKECUDA_MINOR_BASE=1 DAEMON_ARGS=--deny-modeset start_daemon
expect "--deny-modeset: nvidia-modeset refused, nvidiactl not" \
	"$(in_tenant "$build/tests/bpf/open-probe" "$tmp/nvidia-modeset" "$tmp/nvidiactl" | awk '{ print $2 }' | xargs)" \
	"EPERM ENXIO"
expect "GPU 0 at minor 1: its node opens, nvidia0 does not" \
	"$(in_tenant "$build/tests/bpf/open-probe" "$tmp/nvidia1" "$tmp/nvidia0" | awk '{ print $2 }' | xargs)" \
	"ENXIO EPERM"
exit $failed
