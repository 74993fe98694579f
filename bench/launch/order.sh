#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What keeping the legacy stream's order costs in an SM partition (green
# contexts lack it; shim/legacy.c puts it back with events): ab-launch's
# in-process A/B (the shim's cuLaunchKernel against the driver's, batches of
# 256 empty kernels) under `cuslice run --sm-groups 0-6`, in four modes per
# round, the order turning each round:
#   launch    the legacy stream, no blocking stream made (the baseline);
#   blocking  a stream made with cuStreamCreate(flags 0);
#   legacy    the legacy stream beside that stream;
#   handover  that stream and the legacy stream in turn: every launch
#             follows one on the other, the worst case (an event recorded
#             and waited for per launch).
#
#   bench/launch/order.sh [BUILD_DIR] [ROUNDS]
#
# Needs a GPU (exits 77 otherwise). Writes launch-order.json and
# launch-order.md to $OUT (or bench/results/).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
rounds=${2:-4}
out=${OUT:-$here/../results}
python=${PYTHON:-python3}
mkdir -p "$out"
nvidia-smi -L >/dev/null 2>&1 || { echo "bench/launch/order: no NVIDIA GPU here" >&2; exit 77; }

modes=(launch blocking legacy handover)
rows=$out/launch-order-rounds.jsonl
: >"$rows"
for i in $(seq "$rounds"); do
	for k in 0 1 2 3; do
		mode=${modes[$(((i - 1 + k) % 4))]} # the order turns by one each round
		line=$("$build/tools/cuslice" run --sm-groups 0-6 -- "$build/bench/ab-launch" 1000 256 "$mode" | tail -1)
		echo "{\"round\": $i, \"mode\": \"$mode\", \"ab\": $line}" >>"$rows"
		echo "round $i $mode: $(echo "$line" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["added_ns_median_of_pairs"])') ns added" >&2
	done
done
"$python" - "$out" "$rows" "$rounds" "$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)" <<'EOF'
import json, os, statistics, sys
out, rows, rounds, gpu = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = [json.loads(l) for l in open(rows)]
modes = ("launch", "blocking", "legacy", "handover")
added = {m: [r["ab"]["added_ns_median_of_pairs"] for r in rows if r["mode"] == m] for m in modes}
bare = {m: [r["ab"]["bare_median_ns"] for r in rows if r["mode"] == m] for m in modes}
summary = {"gpu": gpu, "rounds": rounds, "partition": "--sm-groups 0-6",
           "added_ns": added, "bare_ns": bare,
           "median_added_ns": {m: statistics.median(v) for m, v in added.items()},
           "median_bare_ns": {m: statistics.median(v) for m, v in bare.items()}}
json.dump(summary, open(os.path.join(out, "launch-order.json"), "w"), indent=1)
md = [f"Keeping the legacy stream's order in a partition ({gpu}), {rounds} rounds of "
      "ab-launch 1000 256 under cuslice run --sm-groups 0-6", "",
      "| mode | bare ns per launch (median) | added ns per round | median added |",
      "|---|---|---|---|"]
for m in modes:
    md.append(f"| {m} | {summary['median_bare_ns'][m]:.1f} | "
              f"{' / '.join(f'{x:.1f}' for x in added[m])} | {summary['median_added_ns'][m]:.1f} |")
open(os.path.join(out, "launch-order.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
EOF
