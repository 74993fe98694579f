#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cusliced's spatial and hybrid modes on a real GPU, all in one run:
#   - spatial: two compute-bound tenants given 56 SMs each (7 groups) by
#     `cuslice set --sm 56`, each alone and both at once;
#   - hybrid: a high-priority MLP tenant (closed loop: batch 8, 16 layers,
#     4096 wide, bf16) on K groups of its own beside a saturating bf16 8192³
#     matmul tenant on the rest, for each K in KS, and the MLP alone on its K
#     groups; against the MLP alone on the whole GPU, the matmul alone, bare
#     sharing, and MPS with the matmul at CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=40,
#     in the same run;
#   - correctness in a partition: PyTorch, torch.compile, a CUDA graph and a
#     backward pass against the whole GPU; 16 threads on one context;
#   - a move: a running tenant's grant grows from 16 to 56 SMs and shrinks
#     back while it launches (tests/gpu/smcheck follow); how soon its kernels
#     on a created stream, the legacy stream and a graph run on the new SMs,
#     and whether a chain of kernels across the moves stayed right; then
#     PyTorch, CuPy and JAX runs moved twice, against the whole GPU;
#   - a fault: one tenant writes to an illegal address while another, which
#     lingers on after its error, runs beside it; when a third is served again,
#     and what cusliced reports.
#
#   bench/spatial/run.sh BUILD_DIR [SECONDS] [KS]
#
# KS defaults to "4 7"; SECTIONS (environment) picks parts of "spatial
# correctness move fault hybrid" (default: all). Writes spatial.jsonl and spatial.md to $OUT (or
# bench/results/).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
seconds=${2:-4}
ks=${3:-4 7}
out=${OUT:-$here/../results}
python=${PYTHON:-python3}
smcheck=$build/tests/gpu/smcheck
mkdir -p "$out"
. "$here/../lib.sh"
[ -x "$smcheck" ] || { echo "no $smcheck (built with nvcc)" >&2; exit 77; }
bench_setup cuslice-spatial a b c lc be
results=$out/spatial.jsonl
: >"$results"
cli() { "$build/tools/cuslice" "$@"; }
record() { echo "$1" | tee -a "$results"; }
sections=${SECTIONS:-spatial correctness move fault hybrid}
want() { case " $sections " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
window() { "$python" -c "import time; s = time.monotonic() + ${2:-3}; print(s, s + $1)"; }
# tenant_run GROUP ARGS...: a program under the shim in that tenant's cgroup
tenant_run() {
	local group=$1
	shift
	sh -c "echo \$\$ > $cg/$parent/$group/cgroup.procs && exec env LD_PRELOAD=$build/shim/libcuslice.so CUSLICE_SOCKET=$rt/run/tenant.sock ${BENCH_ENV:-} $*"
}
last() { tail -1; }
# np_equal A B: JSON, per array saved by partition_frameworks.py, whether B's
# equals A's; {"error": ...} where either is missing
np_equal() {
	"$python" - "$1" "$2" <<'PY' 2>/dev/null || echo '{"error": "python failed"}'
import json, sys
try:
    import numpy as np
    a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
    print(json.dumps({k: bool(np.array_equal(a[k], b[k])) for k in a.files}))
except Exception as e:
    print(json.dumps({"error": str(e)}))
PY
}
# torch_equal FILE: JSON, per result saved by partition_torch.py, whether FILE's
# equals the whole GPU's ($rt/whole.pt); {"error": ...} where either is missing
torch_equal() {
	"$python" - "$rt/whole.pt" "$1" <<'PY' 2>/dev/null || echo '{"error": "python failed"}'
import json, sys
try:
    import torch
    a, b = torch.load(sys.argv[1]), torch.load(sys.argv[2])
    print(json.dumps({k: bool(torch.equal(a[k], b[k])) for k in a}))
except Exception as e:
    print(json.dumps({"error": str(e)}))
PY
}
mps_control=$(command -v nvidia-cuda-mps-control || echo /usr/local/nvidia/bin/nvidia-cuda-mps-control)

# ---- spatial: disjoint partitions planned by cusliced
cli set gpu 0 --mode spatial >/dev/null || { cat "$rt/cusliced.log"; exit 1; }
cli set "/$parent/a" --sm 56 >/dev/null
cli set "/$parent/b" --sm 56 >/dev/null
cli describe "/$parent/a" -o json >"$out/describe-a.json"
want spatial && for round in 1 2; do
	w=$(window "$seconds"); a=$(tenant_run a "$smcheck" $w | last)
	w=$(window "$seconds"); b=$(tenant_run b "$smcheck" $w | last)
	w=$(window "$seconds")
	tenant_run a "$smcheck" $w >"$rt/ta" & p1=$!
	tenant_run b "$smcheck" $w >"$rt/tb" & p2=$!
	wait $p1 $p2
	record "{\"test\": \"spatial\", \"round\": $round, \"a_alone\": $a, \"b_alone\": $b, \"a_together\": $(last <"$rt/ta"), \"b_together\": $(last <"$rt/tb")}"
done

# ---- correctness in a partition
if want correctness; then
r=$(tenant_run a "$smcheck" threads 16 | last)
record "{\"test\": \"threads\", \"result\": $r}"
"$python" "$here/../../tests/gpu/partition_torch.py" "$rt/whole.pt" >"$out/torch-whole.log" 2>&1
tenant_run a "$python" "$here/../../tests/gpu/partition_torch.py" "$rt/part.pt" >"$out/torch-part.log" 2>&1
same=$(torch_equal "$rt/part.pt")
record "{\"test\": \"torch-equal\", \"tenant_sms\": 56, \"result\": $same}"
fi

# ---- moving a running tenant: its SMs change while it launches
if want move; then
# last_move: what cusliced says of tenant a's last move
last_move() { cli describe "/$parent/a" -o json | "$python" -c "import json,sys; print(json.dumps(json.load(sys.stdin)['tenant']['sm']['last_move']))"; }
cli set "/$parent/a" --sm 16 >/dev/null
tenant_run a "$smcheck" follow 6 >"$rt/follow" 2>&1 & follower=$!
for i in $(seq 100); do grep -q following "$rt/follow" && break; sleep 0.1; done
sleep 1.5
# bash's own clock reading, no process started between it and the command's
grow_at=${EPOCHREALTIME:-$(date +%s.%N)}
cli set "/$parent/a" --sm 56 >/dev/null
grow_set=${EPOCHREALTIME:-$(date +%s.%N)}
sleep 2
grow_daemon=$(last_move)
shrink_at=${EPOCHREALTIME:-$(date +%s.%N)}
cli set "/$parent/a" --sm 16 >/dev/null
shrink_set=${EPOCHREALTIME:-$(date +%s.%N)}
wait $follower
cp "$rt/follow" "$out/follow.log"
"$python" - "$rt/follow" "$grow_at" "$grow_set" "$shrink_at" "$shrink_set" "$grow_daemon" "$(last_move)" <<'PY' | tee -a "$results"
import json, sys, time
text = open(sys.argv[1]).read()
# smcheck's times are CLOCK_MONOTONIC, bash's CLOCK_REALTIME
offset = time.time() - time.monotonic()
grow, grow_set, shrink, shrink_set = (float(x) - offset for x in sys.argv[2:6])
r = json.loads(text.strip().splitlines()[-1])
def after(kind, t, want):
    # how long after `t` the kernels of `kind` first ran on `want` SMs
    for at, sms in r[kind]:
        if at >= t and sms == want:
            return round((at - t) * 1e3, 2)
    return None
row = {"test": "move", "rounds": r["rounds"], "wrong": r["wrong"], "error": r["error"],
       "sms_seen": {k: [s for _, s in r[k]] for k in ("stream", "legacy", "graph")},
       "grow_16_to_56_ms": {k: after(k, grow, 56) for k in ("stream", "legacy", "graph")},
       "shrink_56_to_16_ms": {k: after(k, shrink, 16) for k in ("stream", "legacy", "graph")},
       "set_command_ms": {"grow": round((grow_set - grow) * 1e3, 2),
                          "shrink": round((shrink_set - shrink) * 1e3, 2)},
       "daemon_last_move": {"grow": json.loads(sys.argv[6]), "shrink": json.loads(sys.argv[7])}}
print(json.dumps(row))
PY
# moved LOG ARGS...: `$python ARGS...` in tenant a (on 16 SMs), its SMs
# changed to 56 at its first pause and back to 16 at its second
moved() {
	local log=$1 pid
	shift
	tenant_run a "$python" "$@" >"$log" 2>&1 & pid=$!
	for i in $(seq 600); do [ "$(grep -c pausing "$log" 2>/dev/null)" = 1 ] && break; sleep 0.1; done
	cli set "/$parent/a" --sm 56 >/dev/null
	for i in $(seq 600); do [ "$(grep -c pausing "$log" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
	cli set "/$parent/a" --sm 16 >/dev/null
	wait $pid
}
# PyTorch (matmul, torch.compile, a CUDA graph, a backward pass) whose SMs
# change twice while it runs, after its first matmul and between capturing
# its graph and replaying it: the same results as on the whole GPU
[ -f "$rt/whole.pt" ] || "$python" "$here/../../tests/gpu/partition_torch.py" "$rt/whole.pt" >"$out/torch-whole.log" 2>&1
moved "$out/torch-moved.log" "$here/../../tests/gpu/partition_torch.py" "$rt/moved.pt" 2
record "{\"test\": \"torch-equal-moved\", \"result\": $(torch_equal "$rt/moved.pt"), \"last_move\": $(last_move)}"
# CuPy (a blocking stream of its own handing work to the legacy stream and
# back, a raw kernel, a graph) and JAX (jitted matmuls, a gradient), the same
for fw in cupy jax; do
	"$python" "$here/../../tests/gpu/partition_frameworks.py" $fw "$rt/$fw-whole.npz" >"$out/$fw-whole.log" 2>&1
	moved "$out/$fw-moved.log" "$here/../../tests/gpu/partition_frameworks.py" $fw "$rt/$fw-moved.npz" 2
	record "{\"test\": \"$fw-equal-moved\", \"result\": $(np_equal "$rt/$fw-whole.npz" "$rt/$fw-moved.npz"), \"last_move\": $(last_move)}"
done
cli set "/$parent/a" --sm 56 >/dev/null
fi

# ---- a fault under MPS
if want fault; then
w=$(window 8 2)
SMCHECK_LINGER=20 tenant_run b "$smcheck" $w >"$rt/victim" 2>&1 & victim=$!
sleep 5
f=$(tenant_run a "$smcheck" fault 2>&1 | last)
fault_at=$("$python" -c "import time; print(time.monotonic())")
served=none
for i in $(seq 15); do
	w=$(window 0.05 0); r=$(tenant_run c "$smcheck" $w 2>/dev/null | last)
	case "$r" in *'"first_error": 0'*) served=$("$python" -c "import time; print(round(time.monotonic() - $fault_at, 2))"); break;; esac
	sleep 0.1
done
after=$(cli get node -o json)
record "{\"test\": \"fault\", \"culprit\": ${f:-null}, \"new_client_served_after_s\": \"$served\", \"victim_still_running\": \"$(kill -0 $victim 2>/dev/null && echo yes || echo no)\", \"node_after\": $(echo "$after" | "$python" -c "import json,sys; print(json.dumps(json.load(sys.stdin)['gpus'][0]['mps']))")}"
kill $victim 2>/dev/null; wait $victim 2>/dev/null
for g in a b; do record "{\"test\": \"fault-after\", \"tenant\": \"$g\", \"sm\": $(cli describe "/$parent/$g" -o json | "$python" -c "import json,sys; print(json.dumps(json.load(sys.stdin)['tenant']['sm']))")}"; done
# the same tenant faults again while on probation: its process now runs in a
# context of its own, so the fault hits no one else and names it
f2=$(tenant_run a "$smcheck" fault 2>&1 | last)
sleep 1
sm_of() { cli describe "/$parent/$1" -o json | "$python" -c "import json,sys; print(json.dumps(json.load(sys.stdin)['tenant']['sm']))"; }
record "{\"test\": \"fault-again\", \"culprit\": ${f2:-null}, \"node_after\": $(cli get node -o json | "$python" -c "import json,sys; print(json.dumps(json.load(sys.stdin)['gpus'][0]['mps']))"), \"a_sm\": $(sm_of a), \"b_sm\": $(sm_of b)}"
# the suspects' probation (or a named cause's isolation) ends: the next sections need them
cli set "/$parent/a" --isolated off >/dev/null
cli set "/$parent/b" --isolated off >/dev/null
tail -80 "$rt/run/mps0-log/control-stdout.log" >"$out/mps-fault.log" 2>&1
dmesg 2>/dev/null | grep -i -E "xid|nvrm" | tail -20 >"$out/dmesg-xid.log"
timeout 3 "$build/tools/cuslice" events >"$out/events.jsonl" 2>&1
fi
want hybrid || exit 0

# ---- hybrid latency
cli set "/$parent/a" --sm none >/dev/null
cli set "/$parent/b" --sm none >/dev/null
cli set gpu 0 --mode timeslice >/dev/null
sleep 1
n=8192
together() { # CONFIG: LC and BE at once
	local config=$1 w a b
	w=$(window "$seconds" 12)
	case $config in
	bare)
		"$python" "$here/../latency/lc.py" $w 0 | last >"$rt/lc-$config" & a=$!
		"$python" "$here/../shares/matmul.py" $w $n | last >"$rt/be-$config" & b=$! ;;
	mps40)
		export CUDA_MPS_PIPE_DIRECTORY=$rt/mpsb CUDA_MPS_LOG_DIRECTORY=$rt/mpsb-log
		mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
		"$mps_control" -d
		"$python" "$here/../latency/lc.py" $w 0 | last >"$rt/lc-$config" & a=$!
		CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=40 "$python" "$here/../shares/matmul.py" $w $n | last >"$rt/be-$config" & b=$! ;;
	hybrid*)
		tenant_run lc "$python" "$here/../latency/lc.py" $w 0 | last >"$rt/lc-$config" & a=$!
		tenant_run be "$python" "$here/../shares/matmul.py" $w $n | last >"$rt/be-$config" & b=$! ;;
	esac
	wait $a $b
	if [ "$config" = mps40 ]; then
		echo quit | "$mps_control"; sleep 1
		unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
	fi
}
w=$(window "$seconds" 12); "$python" "$here/../latency/lc.py" $w 0 | last >"$rt/lc-alone"
w=$(window "$seconds" 12); "$python" "$here/../shares/matmul.py" $w $n | last >"$rt/be-alone"
together bare
together mps40
cli set "/$parent/lc" --priority high >/dev/null
for k in $ks; do
	w=$(window "$seconds" 12)
	"$build/tools/cuslice" run --sm-groups "0-$((k - 1))" -- "$python" "$here/../latency/lc.py" $w 0 | last >"$rt/lc-alone-k$k"
	cli set "/$parent/lc" --sm $((k * 8)) >/dev/null
	cli set gpu 0 --mode hybrid >/dev/null
	together "hybrid$k"
done
cli set gpu 0 --mode timeslice >/dev/null
"$python" - "$rt" "$results" "$out/spatial.md" $ks <<'PY'
import json, sys
rt, results, md, ks = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
load = lambda name: json.loads(open(f"{rt}/{name}").read())
lc0, be0 = load("lc-alone"), load("be-alone")
rows, rows_alone = [], []
for k in ks:
    lk = load(f"lc-alone-k{k}")
    row = {"test": "lc-alone-on-groups", "groups": int(k), "sms": 8 * int(k),
           "lc_p50_ms": lk["p50_ms"], "lc_p99_ms": lk["p99_ms"],
           "lc_p50_x": lk["p50_ms"] / lc0["p50_ms"], "lc_p99_x": lk["p99_ms"] / lc0["p99_ms"]}
    rows_alone.append(row)
    print(json.dumps(row))
for config in ["bare", "mps40"] + [f"hybrid{k}" for k in ks]:
    lc, be = load(f"lc-{config}"), load(f"be-{config}")
    row = {"test": "hybrid-latency", "config": config,
           "lc_p50_ms": lc["p50_ms"], "lc_p99_ms": lc["p99_ms"],
           "lc_p50_x": lc["p50_ms"] / lc0["p50_ms"], "lc_p99_x": lc["p99_ms"] / lc0["p99_ms"],
           "be_tflops": be["tflops"], "be_fraction": be["tflops"] / be0["tflops"],
           "alone": {"lc_p50_ms": lc0["p50_ms"], "lc_p99_ms": lc0["p99_ms"], "be_tflops": be0["tflops"]}}
    rows.append(row)
    print(json.dumps(row))
with open(results, "a") as f:
    for r in rows_alone + rows:
        f.write(json.dumps(r) + "\n")
with open(md, "w") as f:
    f.write("| config | LC p50 ms (x alone) | LC p99 ms (x alone) | BE TFLOP/s (of alone) |\n|---|---|---|---|\n")
    f.write(f"| alone | {lc0['p50_ms']:.3f} | {lc0['p99_ms']:.3f} | {be0['tflops']:.0f} |\n")
    for r in rows_alone:
        f.write(f"| MLP alone on {r['sms']} SMs | {r['lc_p50_ms']:.3f} ({r['lc_p50_x']:.2f}x) | {r['lc_p99_ms']:.3f} ({r['lc_p99_x']:.2f}x) | |\n")
    for r in rows:
        f.write(f"| {r['config']} | {r['lc_p50_ms']:.3f} ({r['lc_p50_x']:.2f}x) | {r['lc_p99_ms']:.3f} ({r['lc_p99_x']:.2f}x) | {r['be_tflops']:.0f} ({100 * r['be_fraction']:.0f}%) |\n")
PY
cp "$rt/cusliced.log" "$out/cusliced.log"
