# SPDX-License-Identifier: Apache-2.0
"""A saturating bf16 matmul loop; prints its throughput as JSON.

    python3 matmul.py SECONDS [N]
"""
import json
import sys
import time

import torch

seconds = float(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 8192
a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
for _ in range(5):
    c = a @ b
torch.cuda.synchronize()
start = time.perf_counter()
iters = 0
while time.perf_counter() - start < seconds:
    for _ in range(4):
        c = a @ b
    torch.cuda.synchronize()
    iters += 4
elapsed = time.perf_counter() - start
print(json.dumps({"tflops": 2 * n**3 * iters / elapsed / 1e12, "iters": iters, "seconds": elapsed}),
      flush=True)
