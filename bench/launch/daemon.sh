#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Launch overhead in a tenant of cusliced, with and without an active quota:
# ROUNDS rounds, each running ab-launch (in-process A/B, see run.sh) three
# times in one cgroup: unpaced, at --limit 100% and at --limit 50%. Each
# process writes its stats, whose "gate" section says how long it waited for
# its pace, what it learned an empty kernel costs and how many of its samples
# held their stream.
#
#   bench/launch/daemon.sh [BUILD_DIR] [ROUNDS]
#
# Needs a GPU, root and cgroup v2 (exits 77 otherwise). Writes
# launch-daemon.json and launch-daemon.md to $OUT (or bench/results/).
# Target: median added ns per launch with an active quota <= 40.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
rounds=${2:-6}
out=${OUT:-$here/../results}
python=${PYTHON:-python3}
mkdir -p "$out"
cd "$here/../.."
. bench/lib.sh
bench_setup cuslice-launch a
stats=$(mktemp -d /tmp/cuslice-launch-stats.XXXXXX)

# ab NAME: ab-launch in the tenant; its JSON line, its stats as $stats/NAME-PID.json
ab() {
	sh -c "echo \$\$ > $cg/cuslice-launch/a/cgroup.procs && exec env \
		LD_PRELOAD=$build/shim/libcuslice.so CUSLICE_SOCKET=$rt/run/tenant.sock \
		CUSLICE_STATS=$stats/$1-%p.json $build/bench/ab-launch 2000 256" | tail -1
}
limit() { "$build/tools/cuslice" set /cuslice-launch/a --limit "$1" >/dev/null; }

: >"$out/launch-daemon-rounds.jsonl"
for i in $(seq "$rounds"); do
	for config in unpaced limit100 limit50; do
		case $config in
		unpaced) limit none ;;
		limit100) limit 100% ;;
		limit50) limit 50% ;;
		esac
		line=$(ab "$config-$i")
		echo "{\"round\": $i, \"config\": \"$config\", \"ab\": $line}" >>"$out/launch-daemon-rounds.jsonl"
		echo "round $i $config: $(echo "$line" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["added_ns_median_of_pairs"])') ns added" >&2
	done
done
limit none
"$python" - "$out" "$stats" "$rounds" <<'EOF'
import glob, json, os, statistics, sys
out, stats, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(os.path.join(out, "launch-daemon-rounds.jsonl"))]
added = {c: [r["ab"]["added_ns_median_of_pairs"] for r in rows if r["config"] == c]
         for c in ("unpaced", "limit100", "limit50")}
gates = {}
for f in glob.glob(os.path.join(stats, "*.json")):
    name = os.path.basename(f).rsplit("-", 1)[0]
    gates[name] = json.load(open(f)).get("gate", {})
paced = added["limit100"] + added["limit50"]
diffs = [added[c][i] - added["unpaced"][i] for c in ("limit100", "limit50") for i in range(rounds)]
waited = [g.get("throttled_ns", 0) for n, g in gates.items() if not n.startswith("unpaced")]
costs = [g["costs"][0]["ns"] for n, g in gates.items() if g.get("costs")]
summary = {
    "rounds": rounds,
    "added_ns": added,
    "median_unpaced": statistics.median(added["unpaced"]),
    "median_paced": statistics.median(paced),
    "median_paced_minus_unpaced": statistics.median(diffs),
    "paced_waited_ns": waited,
    "empty_kernel_cost_ns": costs,
    "held_samples": sum(g.get("held_samples", 0) for g in gates.values()),
    "forced_releases": sum(g.get("forced_releases", 0) for g in gates.values()),
    "target_ns": 40,
}
json.dump(summary, open(os.path.join(out, "launch-daemon.json"), "w"), indent=1)
md = [f"Launch overhead in a daemon tenant, {rounds} interleaved rounds (ab-launch 2000 256)", "",
      "| config | added ns per round | median |", "|---|---|---|"]
for c, v in added.items():
    md.append(f"| {c} | {' / '.join(f'{x:.1f}' for x in v)} | {statistics.median(v):.1f} |")
md += ["", f"Paced (both limits) median {summary['median_paced']:.1f} ns (target <= 40); "
       f"paced minus unpaced in the same round, median {summary['median_paced_minus_unpaced']:+.1f} ns; "
       f"waited for the pace: {max(waited, default=0) / 1e6:.1f} ms at most; "
       f"empty kernel learned at {min(costs, default=0)}-{max(costs, default=0)} ns; "
       f"{summary['held_samples']} samples held, {summary['forced_releases']} released by the watchdog."]
open(os.path.join(out, "launch-daemon.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
EOF
rm -rf "$stats"
