# SPDX-License-Identifier: Apache-2.0
"""Checks of the GPU test (tests/gpu/run.sh): what the shim counted against
an independent oracle. Each check prints one PASS/FAIL line and appends a
record to RESULTS (JSON lines).

    compare.py nvcc   RESULTS NAME PROGRAM_OUTPUT.json STATS_DIR [--ptsz]
    compare.py torch  RESULTS CUPTI.json STATS_DIR
    compare.py ran    RESULTS NAME STATS_DIR
"""
import glob
import json
import sys


def load_stats(directory):
    stats = []
    for path in sorted(glob.glob(f"{directory}/stats.*.json")):
        with open(path) as f:
            stats.append(json.load(f))
    if not stats:
        raise SystemExit(f"no stats files in {directory}: the shim was not loaded")
    return stats


def record(results, name, ok, **fields):
    fields.update(check=name, ok=ok)
    with open(results, "a") as f:
        f.write(json.dumps(fields) + "\n")
    detail = ", ".join(f"{k}={v}" for k, v in fields.items() if k not in ("check", "ok"))
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")
    return ok


def check_nvcc(results, name, program_json, stats_dir, ptsz=False):
    with open(program_json) as f:
        want = json.load(f)
    [s] = load_stats(stats_dir)
    k = s["kernels"]
    got = {
        "kernels_run": k["run"],
        "launched": k["launched"],
        "captured": k["captured"],
        "graph_launches": s["graphs"]["launched"],
        "graph_nodes": k["graph_nodes"],
    }
    ok = got == want and s["resolution"]["procaddr_unmatched"] == 0
    paths = {n: v["calls"] for n, v in s["calls"].items() if n.startswith("cuLaunch")}
    ptsz_launches = sum(c for n, c in paths.items() if n.endswith("_ptsz"))
    # built with --default-stream per-thread, every kernel launch takes a
    # per-thread entry point; built without, none does
    ok = ok and ptsz_launches == (want["launched"] if ptsz else 0)
    return record(results, name, ok, issued=want, counted=got, launch_paths=paths,
                  unmatched=s["resolution"]["unmatched_names"],
                  procaddr_hooked=s["resolution"]["procaddr_hooked"])


def check_torch(results, cupti_json, stats_dir):
    with open(cupti_json) as f:
        cupti = json.load(f)
    stats = load_stats(stats_dir)
    main = [s for s in stats if s["pid"] == cupti["pid"]]
    others = sum(s["kernels"]["run"] for s in stats if s["pid"] != cupti["pid"])
    counted = main[0]["kernels"]["run"] if main else -1
    paths = {n: v["calls"] for n, v in main[0]["calls"].items()
             if n.startswith(("cuLaunch", "cuGraphLaunch"))} if main else {}
    return record(results, "torch-cupti", counted == cupti["cupti_kernels"] and others == 0,
                  cupti_kernels=cupti["cupti_kernels"], shim_kernels_run=counted,
                  other_processes_kernels=others, paths=paths,
                  unmatched=main[0]["resolution"]["unmatched_names"] if main else None)


def check_ran(results, name, stats_dir):
    stats = load_stats(stats_dir)
    run = sum(s["kernels"]["run"] for s in stats)
    return record(results, name, run > 0, processes=len(stats), kernels_run=run)


def main():
    mode, results = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if mode == "nvcc":
        ok = check_nvcc(results, args[0], args[1], args[2], ptsz="--ptsz" in args)
    elif mode == "torch":
        ok = check_torch(results, args[0], args[1])
    elif mode == "ran":
        ok = check_ran(results, args[0], args[1])
    else:
        raise SystemExit(f"unknown mode {mode}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
