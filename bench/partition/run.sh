#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SM partitions on a real GPU, through `cuslice run --sm-groups` (the same
# green contexts cusliced's spatial mode hands out):
#   - correctness: 16 threads driving one partitioned process; PyTorch,
#     torch.compile (Triton), a CUDA graph and a backward pass give the same
#     results in a partition as on the whole GPU;
#   - scaling: a compute-bound kernel on k of the 15 groups (and on the 12-SM
#     remainder) against the whole GPU, next to 8k/132;
#   - concurrency under MPS: two tenants on disjoint groups (0-6, 7-13) each
#     against itself alone on its groups; the same two on the same groups;
#   - a fault under MPS: one client writes to an illegal address beside
#     another; what each sees, and when a new client is served again.
#
#   bench/partition/run.sh BUILD_DIR [SECONDS]
#
# Writes partition.jsonl and partition.md to $OUT (or bench/results/).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
seconds=${2:-2}
out=${OUT:-$here/../results}
python=${PYTHON:-python3}
smcheck=$build/tests/gpu/smcheck
cli=$build/tools/cuslice
mkdir -p "$out"
nvidia-smi -L >/dev/null 2>&1 || { echo "no GPU" >&2; exit 77; }
[ -x "$smcheck" ] || { echo "no $smcheck (built with nvcc)" >&2; exit 77; }
results=$out/partition.jsonl
: >"$results"
rt=$(mktemp -d /tmp/cuslice-partition.XXXXXX)
mps_control=$(command -v nvidia-cuda-mps-control || echo /usr/local/nvidia/bin/nvidia-cuda-mps-control)
record() { echo "$1" | tee -a "$results"; }
window() { "$python" -c "import time; s = time.monotonic() + ${2:-3}; print(s, s + $1)"; }
in_groups() { # GROUPS ARGS...: smcheck ARGS in a partition ("all": none)
	local g=$1
	shift
	if [ "$g" = all ]; then "$cli" run --vram 100% -- "$smcheck" "$@"
	else "$cli" run --sm-groups "$g" -- "$smcheck" "$@"; fi
}
mps_start() {
	export CUDA_MPS_PIPE_DIRECTORY=$rt/mps CUDA_MPS_LOG_DIRECTORY=$rt/mps-log
	mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
	"$mps_control" -d
}
mps_stop() {
	echo quit | "$mps_control"
	sleep 1
	cp -r "$CUDA_MPS_LOG_DIRECTORY" "$out/mps-log-$1" 2>/dev/null
	unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
}

# correctness
r=$(in_groups 0-6 threads 16 2>&1 | tail -1)
record "{\"test\": \"threads\", \"groups\": \"0-6\", \"result\": $r}"
"$cli" run --vram 100% -- "$python" "$here/../../tests/gpu/partition_torch.py" "$rt/whole.pt" >"$out/torch-whole.log" 2>&1
"$cli" run --sm-groups 0-3 -- "$python" "$here/../../tests/gpu/partition_torch.py" "$rt/part.pt" >"$out/torch-part.log" 2>&1
same=$("$python" -c "
import torch, json, sys
a, b = torch.load('$rt/whole.pt'), torch.load('$rt/part.pt')
print(json.dumps({k: bool(torch.equal(a[k], b[k])) for k in a}))" 2>&1 | tail -1)
record "{\"test\": \"torch-equal\", \"groups\": \"0-3\", \"result\": $same}"

# scaling, alone (no MPS needed)
w=$(window "$seconds" 1); full=$(in_groups all $w | tail -1)
record "{\"test\": \"scaling\", \"groups\": \"all\", \"sms\": 132, \"result\": $full}"
for g in 0 0-1 0-3 0-6 0-14 remainder 7-13,remainder; do
	w=$(window "$seconds" 1); r=$(in_groups "$g" $w | tail -1)
	record "{\"test\": \"scaling\", \"groups\": \"$g\", \"result\": $r}"
done

# concurrency under MPS
mps_start
w=$(window "$seconds"); a=$(in_groups 0-6 $w | tail -1)
record "{\"test\": \"mps-alone\", \"groups\": \"0-6\", \"result\": $a}"
w=$(window "$seconds"); b=$(in_groups 7-13 $w | tail -1)
record "{\"test\": \"mps-alone\", \"groups\": \"7-13\", \"result\": $b}"
w=$(window "$seconds")
in_groups 0-6 $w >"$rt/d1" & p1=$!
in_groups 7-13 $w >"$rt/d2" & p2=$!
wait $p1 $p2
record "{\"test\": \"mps-disjoint\", \"a\": $(tail -1 "$rt/d1"), \"b\": $(tail -1 "$rt/d2")}"
w=$(window "$seconds")
in_groups 0-6 $w >"$rt/o1" & p1=$!
in_groups 0-6 $w >"$rt/o2" & p2=$!
wait $p1 $p2
record "{\"test\": \"mps-same-groups\", \"a\": $(tail -1 "$rt/o1"), \"b\": $(tail -1 "$rt/o2")}"

# a fault under MPS
w=$(window 8)
in_groups 7-13 $w >"$rt/victim" 2>"$rt/victim.err" & p1=$!
sleep 6
f=$(in_groups 0-6 fault 2>"$rt/fault.err" | tail -1)
wait $p1
t0=$("$python" -c "import time; print(time.monotonic())")
ok=none
for i in $(seq 20); do
	w=$(window 0.2 0); r=$(in_groups 0-6 $w 2>/dev/null | tail -1)
	case "$r" in *'"first_error": 0'*) ok=$("$python" -c "import time; print(round(time.monotonic() - $t0, 2))"); break;; esac
	sleep 0.5
done
record "{\"test\": \"mps-fault\", \"culprit\": ${f:-null}, \"victim\": $(tail -1 "$rt/victim" || echo null), \"new_client_ok_after_s\": \"$ok\"}"
cp "$rt/victim.err" "$rt/fault.err" "$out/" 2>/dev/null
mps_stop fault

# the control daemon in the foreground, as cusliced runs it
export CUDA_MPS_PIPE_DIRECTORY=$rt/mpsf CUDA_MPS_LOG_DIRECTORY=$rt/mpsf-log
mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
"$mps_control" -f >"$out/mps-foreground.log" 2>&1 & fg=$!
sleep 1
w=$(window 0.5 0); r=$(in_groups 0-6 $w | tail -1)
echo get_server_list | "$mps_control" >"$out/mps-server-list.txt" 2>&1
echo quit | "$mps_control"
for i in $(seq 50); do kill -0 $fg 2>/dev/null || break; sleep 0.1; done
alive=$(kill -0 $fg 2>/dev/null && echo yes || echo no)
record "{\"test\": \"mps-foreground\", \"client\": $r, \"still_running_after_quit\": \"$alive\"}"
kill $fg 2>/dev/null
unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
rm -rf "$rt"
