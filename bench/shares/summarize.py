# SPDX-License-Identifier: Apache-2.0
"""Medians over the rounds of bench/shares/run.sh: shares.json and shares.md.

    summarize.py SAMPLES OUT CPU0 CPU1 T0 T1 LAUNCH_UNPACED LAUNCH_PACED [DESCRIBE_PACED]

DESCRIBE_PACED: `cuslice describe -o json` of the paced launch tenant after its
run, for the time it waited for its pace (a cost the gate imposes, not one it
spends).
"""
import json
import statistics
import sys

samples, out = sys.argv[1], sys.argv[2]
cpu0, cpu1, t0, t1 = map(float, sys.argv[3:7])
launch_unpaced, launch_paced = (json.load(open(p)) for p in sys.argv[7:9])
waited_ns = None
if len(sys.argv) > 9:
    described = json.load(open(sys.argv[9]))["tenant"]
    waited_ns = described["throttled_ns"] / (launch_paced["rounds"] * launch_paced["batch"])

rounds = {}
for line in open(samples):
    i, what, *values = line.split()
    rounds.setdefault(int(i), {})[what] = [float(v) for v in values]

per_round = []
for i, r in sorted(rounds.items()):
    a, b = r["alone_a"][0], r["alone_b"][0]
    bare = r["bare_alone"][0]
    wa, wb = r["weights"]
    xa, xb = r["bare_pair"]
    per_round.append({
        "round": i,
        "alone_tflops": {"a": a, "b": b, "bare": bare},
        "weights_3_7": {"a_share": wa / a, "b_share": wb / b},
        "bare_pair": {"x_share": xa / bare, "y_share": xb / bare},
        "weight_alone_of_bare": a / bare,
        "limit_30pct_learned_of_alone": r["limit_learned"][0] / a,
        "limit_30pct_profiled_of_alone": r["limit_profiled"][0] / a,
    })


def median(get):
    return statistics.median(get(r) for r in per_round)


launched = 2 * 2 * 2000 * 256  # two ab-launch runs, shim and bare batches, 2000 pairs of 256
summary = {
    "weights_3_7": {"a_share": median(lambda r: r["weights_3_7"]["a_share"]),
                    "b_share": median(lambda r: r["weights_3_7"]["b_share"])},
    "bare_pair": {"x_share": median(lambda r: r["bare_pair"]["x_share"]),
                  "y_share": median(lambda r: r["bare_pair"]["y_share"])},
    "weight_alone_of_bare": median(lambda r: r["weight_alone_of_bare"]),
    "limit_30pct_learned_of_alone": median(lambda r: r["limit_30pct_learned_of_alone"]),
    "limit_30pct_profiled_of_alone": median(lambda r: r["limit_30pct_profiled_of_alone"]),
    "launch_added_ns": {"daemon_unpaced": launch_unpaced["added_ns_median_of_pairs"],
                        "daemon_paced": launch_paced["added_ns_median_of_pairs"],
                        "daemon_paced_waiting_mean": waited_ns},
    "cusliced_cpu": {"seconds": cpu1 - cpu0, "wall": t1 - t0,
                     "of_one_core": (cpu1 - cpu0) / (t1 - t0),
                     "launches_per_s": launched / (t1 - t0)},
}
json.dump({"rounds": per_round, "median": summary}, open(out + "/shares.json", "w"), indent=2)

s = summary
rows = [
    ("weights 3:7, tenant a (target 30 ± 3 %)", f"{100 * s['weights_3_7']['a_share']:.1f} %"),
    ("weights 3:7, tenant b (target 70 ± 3 %)", f"{100 * s['weights_3_7']['b_share']:.1f} %"),
    ("bare pair, each", f"{100 * s['bare_pair']['x_share']:.1f} % / {100 * s['bare_pair']['y_share']:.1f} %"),
    ("--weight alone, of bare alone (target ≥ 97 %)", f"{100 * s['weight_alone_of_bare']:.1f} %"),
    ("--limit 30 % alone, learned costs (target ≤ 31 %)", f"{100 * s['limit_30pct_learned_of_alone']:.1f} %"),
    ("--limit 30 % alone, with a profile (target ≤ 31 %)", f"{100 * s['limit_30pct_profiled_of_alone']:.1f} %"),
    ("launch, daemon tenant unpaced: added ns", f"{s['launch_added_ns']['daemon_unpaced']}"),
    ("launch, daemon tenant paced: added ns", f"{s['launch_added_ns']['daemon_paced']}"),
    ("… of which waiting for its pace (mean ns per launch)",
     "n/a" if waited_ns is None else f"{waited_ns:.1f}"),
    ("cusliced CPU at that launch rate", f"{100 * s['cusliced_cpu']['of_one_core']:.2f} % of a core at "
     f"{s['cusliced_cpu']['launches_per_s'] / 1e3:.0f} k launches/s"),
]
md = f"Medians of {len(per_round)} interleaved rounds; shares are throughput against alone in the same round.\n\n"
md += "| measure | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
open(out + "/shares.md", "w").write(md)
print(md)
