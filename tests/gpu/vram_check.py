# SPDX-License-Identifier: Apache-2.0
"""The VRAM quota on a real GPU: runs vram.py workloads under
`cuslice run --vram 10GiB`, watches the device's real memory use from
outside through NVML while they run, and checks what they saw.

    vram_check.py CUSLICE RESULTS
"""
import json
import os
import subprocess
import sys
import threading
import time

import pynvml

GiB = 1 << 30
QUOTA = 10 * GiB
HERE = os.path.dirname(os.path.abspath(__file__))


class Watch:
    """Highest device memory use by compute processes, polled every 10 ms."""

    def __init__(self):
        pynvml.nvmlInit()
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        self.baseline = self.used()
        self.peak = 0
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def used(self):
        procs = pynvml.nvmlDeviceGetComputeRunningProcesses(self.handle)
        return sum(p.usedGpuMemory or 0 for p in procs)

    def loop(self):
        while self.running:
            self.peak = max(self.peak, self.used())
            time.sleep(0.01)

    def stop(self):
        self.running = False
        self.thread.join()
        return self.peak


def run(cuslice, mode, env=None):
    watch = Watch()
    cmd = [cuslice, "run", "--vram", "10GiB", "--", sys.executable, f"{HERE}/vram.py", mode]
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})},
                       timeout=300)
    peak = watch.stop()
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    seen = json.loads(lines[-1]) if lines else {}
    return p.returncode, seen, peak, p.stderr[-2000:]


def record(results, name, ok, **fields):
    fields.update(check=name, ok=ok)
    with open(results, "a") as f:
        f.write(json.dumps(fields) + "\n")
    print(f"{'PASS' if ok else 'FAIL'} {name}: " +
          ", ".join(f"{k}={v}" for k, v in fields.items() if k not in ("check", "ok")),
          flush=True)
    return ok


def main():
    cuslice, results = sys.argv[1], sys.argv[2]
    ok = True

    rc, seen, peak, err = run(cuslice, "info")
    ok &= record(results, "vram-torch-mem-get-info", rc == 0 and seen.get("total") == QUOTA,
                 total=seen.get("total"), free=seen.get("free"), err=err if rc else "")

    for name, conf in [("default", None), ("expandable", "expandable_segments:True"),
                       ("cudaMallocAsync", "backend:cudaMallocAsync")]:
        env = {"PYTORCH_CUDA_ALLOC_CONF": conf} if conf else {}
        rc, seen, peak, err = run(cuslice, "torch-fill", env)
        allocated = seen.get("allocated", 0)
        ok &= record(results, f"vram-torch-oom-{name}",
                     rc == 0 and allocated >= 9 * GiB and peak <= QUOTA,
                     allocated_gib=round(allocated / GiB, 3), real_peak_gib=round(peak / GiB, 3),
                     err=err if rc else "")

    rc, seen, peak, err = run(cuslice, "jax")
    limit = seen.get("bytes_limit", -1)
    ok &= record(results, "vram-jax-preallocates-75pct",
                 rc == 0 and 0.70 * QUOTA <= limit <= 0.76 * QUOTA and peak <= QUOTA,
                 bytes_limit_gib=round(limit / GiB, 3), real_peak_gib=round(peak / GiB, 3),
                 err=err if rc else "")

    rc, seen, peak, err = run(cuslice, "cupy-fill")
    allocated = seen.get("allocated", 0)
    ok &= record(results, "vram-cupy-oom", rc == 0 and 8 * GiB <= allocated and peak <= QUOTA,
                 allocated_gib=round(allocated / GiB, 3), real_peak_gib=round(peak / GiB, 3),
                 err=err if rc else "")

    rc, seen, peak, err = run(cuslice, "transformers")
    ok &= record(results, "vram-transformers-generate",
                 rc == 0 and seen.get("generated_tokens") == 32 and peak <= QUOTA,
                 seen=seen, real_peak_gib=round(peak / GiB, 3), err=err if rc else "")

    rc, seen, peak, err = run(cuslice, "share")
    first, second = seen.get("first", {}), seen.get("second", {})
    ok &= record(results, "vram-two-processes-share",
                 rc == 0 and first.get("got") is True and second.get("got") is False
                 and peak <= QUOTA,
                 first=first, second=second, real_peak_gib=round(peak / GiB, 3),
                 err=err if rc else "")
    p = subprocess.run([cuslice, "run", "--vram", "10GiB", "--", "nvidia-smi",
                        "--query-gpu=memory.total,memory.used", "--format=csv,noheader,nounits"],
                       capture_output=True, text=True, timeout=60)
    fields = [f.strip() for f in p.stdout.strip().split(",")]
    ok &= record(results, "vram-nvidia-smi-shows-quota",
                 p.returncode == 0 and fields[:1] == ["10240"],
                 nvidia_smi=p.stdout.strip(), err=p.stderr[-500:])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
