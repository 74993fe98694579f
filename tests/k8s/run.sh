#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cuslice-device-plugin against a fake kubelet (fake_kubelet.py, on Debian's
# python3-grpcio; no cluster): registration with the dial-back, ListAndWatch,
# preferred allocations, Allocate for several containers, bad input, a kubelet
# restart. Then the claims Allocate handed out: presented from a container's
# cgroup, a claim becomes that cgroup's quota; from a second cgroup it is
# refused. Root and cgroup v2 for that part; exits 77 where the Python gRPC
# packages or the plugin are missing.
#
#   tests/k8s/run.sh BUILD_DIR
set -u
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3 # Debian's python3-grpcio is seen by this one
skip() { echo "tests/k8s: skipped: $*"; exit 77; }
fail() { echo "FAIL $*"; failed=1; }
failed=0

[ -x "$build/tools/device-plugin/cuslice-device-plugin" ] || skip "the device plugin was not built"
$python -c "import grpc, grpc_tools" 2>/dev/null || skip "needs python3-grpcio and python3-grpc-tools"
[ "$(id -u)" -eq 0 ] || skip "needs root (cgroups)"
cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg" ] || skip "no cgroup v2 hierarchy"

work=$(mktemp -d /tmp/cuslice-k8s.XXXXXX)
group=cuslice-k8s-$$
export LD_LIBRARY_PATH=$build/tests/fakecuda FAKECUDA_DEVICES=2 FAKECUDA_MEMORY=$((16 << 30))
export FAKECUDA_MINOR_BASE=1 # GPU N is /dev/nvidia(N+1): the plugin must ask, not assume
export CUSLICE_ADMIN_SOCKET=$work/run/admin.sock
daemon=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null
	wait 2>/dev/null
	rmdir "$cg/$group/a" "$cg/$group/b" "$cg/$group" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/pb" "$work/claims" "$cg/$group/a" "$cg/$group/b" || skip "cannot make cgroups"
$python -m grpc_tools.protoc -I "$build/../tools/device-plugin" -I "$here/../../tools/device-plugin" \
	--python_out="$work/pb" deviceplugin.proto || { echo "FAIL cannot generate the Python messages"; exit 1; }
start_daemon() {
	rm -f "$work/run/admin.sock"
	"$build/tools/cusliced" --runtime-dir "$work/run" --state "$work/state.json" --no-bpf \
		2>>"$work/cusliced.log" &
	daemon=$!
	for _ in $(seq 100); do [ -S "$work/run/admin.sock" ] && break; sleep 0.02; done
}
start_daemon

$python "$here/fake_kubelet.py" "$work" "$build/tools/device-plugin/cuslice-device-plugin" \
	"$work/run/admin.sock" "$work/run/tenant.sock" "$build/shim/libcuslice.so" "$work/claims" \
	"$daemon" || failed=1
echo "--- plugin log"; cat "$work/plugin.log"
# the fake kubelet killed cusliced; the claims it made were kept in its state file
wait "$daemon" 2>/dev/null
start_daemon

# claims: the first vram claim, presented from cgroup a, then from cgroup b
read -r _ claim_file claim < <(grep '^vram ' "$work/claims.txt" | head -1)
present() { # present CGROUP: cuInit in that cgroup under the shim with the claim mounted
	sh -c "echo \$\$ > $cg/$group/$1/cgroup.procs && exec env LD_PRELOAD=$build/shim/libcuslice.so \
		CUSLICE_SOCKET=$work/run/tenant.sock CUSLICE_CLAIMS=$claim_file $build/tests/integration/init-probe"
}
out=$(present a 2>&1)
quota=$("$build/tools/cuslice" describe "/$group/a" -o json | awk -F: '/"vram_quota"/ { gsub(/[^0-9]/, "", $2); print $2; exit }')
if [ "$out" = "cuInit: 0" ] && [ "$quota" = $((10 << 30)) ]; then
	echo "PASS claim $claim bound to /$group/a: its quota on GPU 0 is 10 GiB"
else
	fail "claim from cgroup a: \"$out\", quota $quota"
fi
out=$(present b 2>&1)
if echo "$out" | grep -q "refused this process: claim $claim belongs to another cgroup" &&
	echo "$out" | grep -q "cuInit: 3"; then
	echo "PASS the same claim from cgroup b is refused: $(echo "$out" | head -1)"
else
	fail "claim from cgroup b: $out"
fi
bound=$("$build/tools/cuslice" describe "/$group/b" -o json 2>/dev/null | grep -c '"vram_quota":10737418240')
[ "$bound" -eq 0 ] && echo "PASS cgroup b got nothing from it" || fail "cgroup b got the claim's quota"
grep -q "refused claim $claim from /$group/b" "$work/cusliced.log" &&
	echo "PASS cusliced logs the refusal" || fail "no refusal logged"
exit $failed
