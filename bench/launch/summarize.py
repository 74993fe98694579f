# SPDX-License-Identifier: Apache-2.0
"""Medians and ratios of the launch benchmark (bench/launch/run.sh).

    summarize.py SAMPLES AB_JSON OUT_DIR GPU_NAME
"""
import json
import statistics
import sys

samples, ab_json, out, gpu = sys.argv[1:5]
ab = json.load(open(ab_json))
rounds = {}
for line in open(samples):
    i, mode, ns = line.split()
    rounds.setdefault(int(i), {})[mode] = float(ns)
pairs = [r for r in rounds.values() if "bare" in r and "shim" in r]
bare = [r["bare"] for r in pairs]
shim = [r["shim"] for r in pairs]
diffs = [r["shim"] - r["bare"] for r in pairs]
runtime = {
    "processes_per_mode": len(pairs),
    "bare_median_ns": statistics.median(bare),
    "shim_median_ns": statistics.median(shim),
    "added_ns_median_of_pairs": statistics.median(diffs),
    "ratio": statistics.median(shim) / statistics.median(bare),
}
result = {
    "gpu": gpu,
    "driver_api_in_process": ab,
    "runtime_process_pairs": runtime,
    "target_added_ns": 40,
    "meets_target": ab["under_shim"] and ab["added_ns_median_of_pairs"] <= 40,
}
json.dump(result, open(f"{out}/launch.json", "w"), indent=2)
table = (
    f"Launch overhead on {gpu}\n\n"
    "| measurement | bare ns/launch | under libcuslice.so | added ns (median of pairs) | ratio |\n"
    "|---|---|---|---|---|\n"
    f"| cuLaunchKernel, one process, {ab['rounds']} interleaved batch pairs of {ab['batch']} "
    f"| {ab['bare_median_ns']:.1f} | {ab['wrapped_median_ns']:.1f} "
    f"| {ab['added_ns_median_of_pairs']:.1f} | {ab['ratio']:.4f} |\n"
    f"| <<<1,1>>> via the runtime, {len(pairs)} interleaved process pairs "
    f"| {runtime['bare_median_ns']:.1f} | {runtime['shim_median_ns']:.1f} "
    f"| {runtime['added_ns_median_of_pairs']:.1f} | {runtime['ratio']:.4f} |\n"
)
open(f"{out}/launch.md", "w").write(table)
print(table)
