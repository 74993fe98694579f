# SPDX-License-Identifier: Apache-2.0
"""A saturating bf16 matmul loop; prints its throughput as JSON.

    python3 matmul.py START END [N]

START and END are CLOCK_MONOTONIC seconds: the loop counts only what it
completes between them, so that tenants started together are measured over
the same window, and keeps running a second past END so that no tenant has
the GPU to itself at the end of another's window.
"""
import json
import sys
import time

import torch

start_at, end_at = float(sys.argv[1]), float(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 8192
a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
counted, first, last = 0, None, None
while time.monotonic() < end_at + 1.0:
    for _ in range(4):
        c = a @ b
    torch.cuda.synchronize()
    now = time.monotonic()
    if start_at <= now <= end_at:
        if first is None:
            first = now
        else:
            counted += 4
        last = now
elapsed = (last - first) if first is not None and last != first else float("nan")
print(json.dumps({"tflops": 2 * n**3 * counted / elapsed / 1e12, "iters": counted,
                  "seconds": elapsed}), flush=True)
