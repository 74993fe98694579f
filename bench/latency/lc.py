# SPDX-License-Identifier: Apache-2.0
"""A latency-critical inference tenant: a batch-8, 16-layer, 4096-wide bf16
MLP served open-loop at RATE requests/s from START to END (CLOCK_MONOTONIC
seconds); latency counts from each request's scheduled arrival. RATE 0: a
closed loop, each request sent as the last one completes. Prints JSON.

    python3 lc.py START END [RATE]
"""
import json
import sys
import time

import torch

start_at, end_at = float(sys.argv[1]), float(sys.argv[2])
rate = float(sys.argv[3]) if len(sys.argv) > 3 else 300
layers = [torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16) / 64 for _ in range(16)]
x = torch.randn(8, 4096, device="cuda", dtype=torch.bfloat16)


def request():
    y = x
    for w in layers:
        y = torch.relu(y @ w)
    torch.cuda.synchronize()


for _ in range(20):
    request()
lat = []
period = 1.0 / rate if rate > 0 else 0.0
t = start_at
while time.monotonic() < start_at:
    time.sleep(0.0005)
while t < end_at:
    if period:
        while time.monotonic() < t - 0.002:
            time.sleep(0.0005)
        while time.monotonic() < t:  # spin the last 2 ms, for an exact arrival
            pass
    else:
        t = time.monotonic()
    request()
    lat.append((time.monotonic() - t) * 1e3)
    t += period
lat.sort()
print(json.dumps({"p50_ms": lat[len(lat) // 2], "p99_ms": lat[len(lat) * 99 // 100],
                  "requests": len(lat)}), flush=True)
